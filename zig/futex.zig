//! Futex wait and wake on memory shared between processes. FUTEX_PRIVATE_FLAG is
//! deliberately not set (std.Thread.Futex sets it): a private futex only wakes
//! threads of the same process.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

const FUTEX_WAIT: usize = 0;
const FUTEX_WAKE: usize = 1;

/// Sleeps while the 32-bit word at base+offset equals `expected` (base as f64, see
/// sys.address). timeout_ns < 0 waits without limit. Returns 0 when woken (or
/// spuriously), -EAGAIN when the word did not hold `expected`, -ETIMEDOUT, -EINTR,
/// -EINVAL.
pub export fn shmkit_futex_wait(base: f64, offset: u32, expected: i32, timeout_ns: f64) i32 {
    const addr = sys.address(base, offset) orelse return sys.EINVAL;
    if (addr == 0 or addr % 4 != 0 or std.math.isNan(timeout_ns)) return sys.EINVAL;
    var ts: linux.timespec = undefined;
    var tsp: usize = 0;
    if (timeout_ns >= 0) {
        // Anything beyond ~292 years is "no limit" in practice; clamp to keep the cast defined.
        const ns: i64 = @intFromFloat(@min(@floor(timeout_ns), 0x1p62));
        ts = .{ .sec = @divTrunc(ns, std.time.ns_per_s), .nsec = @rem(ns, std.time.ns_per_s) };
        tsp = @intFromPtr(&ts);
    }
    const rc = linux.syscall4(.futex, addr, FUTEX_WAIT, @as(u32, @bitCast(expected)), tsp);
    return sys.result32(rc);
}

/// Wakes up to `count` waiters on base+offset. Returns how many were woken or -errno.
pub export fn shmkit_futex_wake(base: f64, offset: u32, count: i32) i32 {
    const addr = sys.address(base, offset) orelse return sys.EINVAL;
    if (addr == 0 or addr % 4 != 0) return sys.EINVAL;
    return sys.result32(linux.syscall3(.futex, addr, FUTEX_WAKE, @as(u32, @bitCast(count))));
}

test "wait returns EAGAIN when the value differs, times out when equal" {
    var word: i32 = 5;
    const base: f64 = @floatFromInt(@intFromPtr(&word));
    try std.testing.expectEqual(-@as(i32, @intFromEnum(linux.E.AGAIN)), shmkit_futex_wait(base, 0, 4, 1000));
    try std.testing.expectEqual(-@as(i32, @intFromEnum(linux.E.TIMEDOUT)), shmkit_futex_wait(base, 0, 5, 1000));
    try std.testing.expectEqual(@as(i32, 0), shmkit_futex_wake(base, 0, 1));
}
