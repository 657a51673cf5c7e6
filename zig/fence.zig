//! The asymmetric fence of the wake handshake (docs/WAITING.md "Arming"): lets the
//! native fast paths publish with a release store, with no full fence, on an
//! eventcount nobody has ever parked on, and moves the cost to the first waiter.
//!
//! A waiter, before its first park on an eventcount, sets ARMING in the eventcount's
//! `waiters` word, issues membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) (every CPU that
//! runs a thread of a registered process executes a full memory barrier before the
//! call returns), then sets ARMED. The flags are sticky: the barrier is paid once per
//! eventcount, not once per park (one costs ~0.2 µs with no registered peer running,
//! 17.6 µs with one running on the other vCPU of this VM; docs/DECISIONS.md).
//!
//! A producer that may publish lightly is a thread of a process registered here
//! (`register`, at load) and does: release store; compiler barrier; relaxed load of
//! `waiters`; if it is 0 it stops, else a seq_cst RMW on `waiters` (the full fence of
//! the ordinary Dekker handshake) and the wake if the count is not 0.
//!
//! Why no wake-up is lost when the load said 0 (the waiter's flag store not yet seen):
//! the producer's load came before the IPI barrier the waiter's membarrier ran on the
//! producer's CPU (or before the producer's last context switch, itself a full
//! barrier); the publishing store precedes that load in program order (the compiler
//! barrier keeps it there; the hardware completes it before the barrier point), so it
//! is visible before membarrier returns, and the waiter's re-check after it sees the
//! element. A load after the barrier point sees the flag (stored before membarrier),
//! so that producer takes the fenced path. This is folly's asymmetricLightBarrier /
//! asymmetricHeavyBarrier pair; the Linux guarantee is membarrier(2)'s.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

const CMD_GLOBAL_EXPEDITED: usize = 1 << 1;
const CMD_REGISTER_GLOBAL_EXPEDITED: usize = 1 << 2;

/// Bits of an eventcount's `waiters` word above the count (docs/FORMAT.md).
pub const ARMING: u32 = 0x4000_0000;
pub const ARMED: u32 = 0x8000_0000;
pub const COUNT: u32 = 0x3fff_ffff;

/// True once this process is registered for GLOBAL_EXPEDITED barriers: only then may
/// its fast paths publish with release stores (an unregistered process is not
/// interrupted by a waiter's membarrier, so it keeps the seq_cst handshake).
var light_ok = std.atomic.Value(bool).init(false);

/// Registers this process (idempotent; all threads of the process are covered).
/// Called once per load of the library (root.zig `shmkit_abi_version`).
pub fn register() void {
    if (light_ok.load(.monotonic)) return;
    const rc = linux.syscall3(.membarrier, CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0);
    if (rc == 0) light_ok.store(true, .monotonic);
}

/// Whether this process's fast paths may publish with release stores.
pub inline fn light() bool {
    return light_ok.load(.monotonic);
}

/// The heavy side: a full barrier on every CPU running a registered process. 0, or
/// -errno (ENOSYS, EPERM under a seccomp filter, EINVAL on a kernel without the
/// command): the caller must then not rely on light producers (src/wait/wait.ts).
pub export fn shmkit_heavy_barrier() i32 {
    return sys.result32(linux.syscall3(.membarrier, CMD_GLOBAL_EXPEDITED, 0, 0));
}

/// 1 when this process publishes lightly (diagnostics, tests, benchmarks).
pub export fn shmkit_light_publish() i32 {
    return @intFromBool(light());
}
