//! Futex waits that do not block the caller's thread, and that can be cancelled.
//!
//! A wait is a *job*: a small heap record holding the futex word to wait on and a
//! private cancel word. The job waits with futex_waitv (Linux 5.16+) on both words,
//! so cancelling it (shmkit_wait_job_cancel: cancel word := 1, wake) makes it return
//! at once with -ECANCELED. Deno runs shmkit_wait_job_run as a `nonblocking` FFI
//! symbol; Bun starts shmkit_wait_job_thread, a detached pthread that reports through
//! a thread-safe JSCallback — but only while the cancel word is still 0 and the JS
//! thread that started it still exists (tgkill(pid, tid, 0)): a terminated Worker's
//! thread is gone (measured: both runtimes end the OS thread within 10 ms of
//! terminate()), and calling its callback would enter a dead VM.
//!
//! Jobs are reference counted: one reference for the JS side, one for a helper
//! thread. The last shmkit_wait_job_release frees it. A Worker terminated while it
//! owns a job never releases its reference: 64 bytes stay allocated (never touched).
const std = @import("std");
const linux = std.os.linux;
const futex = @import("futex.zig");
const sys = @import("sys.zig");

pub const Callback = *const fn (token: u32, result: i32) callconv(.C) void;

const ECANCELED: i32 = -@as(i32, @intFromEnum(linux.E.CANCELED));
const ETIMEDOUT: i32 = -@as(i32, @intFromEnum(linux.E.TIMEDOUT));
const FUTEX2_SIZE_U32: u32 = 2; // shared (no FUTEX2_PRIVATE): the data word is in shared memory

const Job = struct {
    refs: std.atomic.Value(u32),
    cancel: std.atomic.Value(u32) align(4),
    addr: usize,
    expected: i32,
    timeout_ns: f64,
    callback: ?Callback = null,
    token: u32 = 0,
    origin_tid: i32 = 0,
    /// >= 0: report by sending {token u32, result i32} on this socket instead of calling back.
    fd: i32 = -1,
};

fn jobOf(handle: f64) ?*Job {
    const a = sys.address(handle, 0) orelse return null;
    if (a == 0 or a % @alignOf(Job) != 0) return null;
    return @ptrFromInt(a);
}

/// Waits like shmkit_futex_wait on the word at `addr`, and also on `cancel` (while it
/// is 0). Returns 0 woken, -EAGAIN the word differed, -ETIMEDOUT, -ECANCELED, -EINTR.
fn waitCancellable(addr: usize, expected: i32, timeout_ns: f64, cancel: *std.atomic.Value(u32)) i32 {
    var ws = [2]linux.futex_waitv{
        .{ .val = @as(u32, @bitCast(expected)), .uaddr = addr, .flags = FUTEX2_SIZE_U32, .__reserved = 0 },
        .{ .val = 0, .uaddr = @intFromPtr(&cancel.raw), .flags = FUTEX2_SIZE_U32, .__reserved = 0 },
    };
    var deadline: linux.timespec = undefined;
    var tsp: ?*const linux.timespec = null;
    if (timeout_ns >= 0) {
        var now: linux.timespec = undefined;
        _ = linux.clock_gettime(.MONOTONIC, &now);
        const ns: i64 = @intFromFloat(@min(@floor(timeout_ns), 0x1p62));
        const total = @as(i128, now.sec) * std.time.ns_per_s + now.nsec + ns;
        deadline = .{ .sec = @intCast(@divTrunc(total, std.time.ns_per_s)), .nsec = @intCast(@rem(total, std.time.ns_per_s)) };
        tsp = &deadline;
    }
    const rc = sys.result32(linux.futex2_waitv(&ws, 2, 0, tsp, .MONOTONIC));
    if (cancel.load(.seq_cst) != 0) {
        // A wake-one that picked this cancelled wait must not be lost: pass it on.
        if (rc == 0) _ = linux.syscall3(.futex, addr, 1, 1); // FUTEX_WAKE 1, shared
        return ECANCELED;
    }
    if (rc == 1) return 0; // woken through the cancel word but not cancelled: spurious
    if (rc > 0) return 0;
    return rc;
}

/// A new cancellable wait on base+offset (see shmkit_futex_wait for the arguments).
/// Returns the job's address (as f64) or -errno. The caller holds one reference.
pub export fn shmkit_wait_job_new(base: f64, offset: u32, expected: i32, timeout_ns: f64) f64 {
    const addr = sys.address(base, offset) orelse return sys.EINVAL;
    if (addr == 0 or addr % 4 != 0 or std.math.isNan(timeout_ns)) return sys.EINVAL;
    const job = std.heap.c_allocator.create(Job) catch return -12; // ENOMEM
    job.* = .{ .refs = .init(1), .cancel = .init(0), .addr = addr, .expected = expected, .timeout_ns = timeout_ns };
    return @floatFromInt(@intFromPtr(job));
}

/// Runs the wait on the calling thread. Returns 0 woken, -EAGAIN, -ETIMEDOUT, -ECANCELED.
pub export fn shmkit_wait_job_run(handle: f64) i32 {
    const job = jobOf(handle) orelse return sys.EINVAL;
    if (job.cancel.load(.seq_cst) != 0) return ECANCELED;
    return waitCancellable(job.addr, job.expected, job.timeout_ns, &job.cancel);
}

/// Cancels the wait: a parked run returns -ECANCELED at once, a helper thread does
/// not call back. Safe to call more than once, and after the wait ended.
pub export fn shmkit_wait_job_cancel(handle: f64) void {
    const job = jobOf(handle) orelse return;
    job.cancel.store(1, .seq_cst);
    _ = linux.syscall3(.futex, @intFromPtr(&job.cancel.raw), 1, 0x7fffffff); // FUTEX_WAKE, shared
}

/// Drops one reference; the last one frees the job.
pub export fn shmkit_wait_job_release(handle: f64) void {
    const job = jobOf(handle) orelse return;
    if (job.refs.fetchSub(1, .acq_rel) == 1) std.heap.c_allocator.destroy(job);
}

fn threadAlive(tid: i32) bool {
    const rc = linux.tgkill(linux.getpid(), tid, 0);
    return sys.result(rc) == 0;
}

fn runThread(job: *Job) void {
    const rc = shmkit_wait_job_run(@floatFromInt(@intFromPtr(job)));
    if (job.cancel.load(.seq_cst) == 0) {
        if (job.fd >= 0) {
            // Never enters the VM: the JS thread reads this from its event loop. MSG_NOSIGNAL and
            // MSG_DONTWAIT: a reader that is gone (or a full socket) drops the report.
            const rec = [2]u32{ job.token, @bitCast(rc) };
            _ = linux.sendto(job.fd, std.mem.asBytes(&rec), 8, linux.MSG.NOSIGNAL | linux.MSG.DONTWAIT, null, 0);
        } else if (threadAlive(job.origin_tid)) job.callback.?(job.token, rc);
    }
    shmkit_wait_job_release(@floatFromInt(@intFromPtr(job)));
}

/// A completion channel for shmkit_wait_job_send: a Unix datagram socket pair (one
/// 8-byte record per datagram, so a lost read never misaligns the next). Returns
/// read_fd * 65536 + write_fd (both CLOEXEC), or -errno. The caller keeps both open for
/// good (readers get a shmkit_dup of the read end), so neither number is ever reused by
/// the process while a helper thread may still send to it.
pub export fn shmkit_completion_channel() i32 {
    var fds: [2]i32 = undefined;
    const rc = sys.result32(linux.socketpair(linux.AF.UNIX, linux.SOCK.DGRAM | linux.SOCK.CLOEXEC, 0, &fds));
    if (rc < 0) return rc;
    if (fds[0] >= 32768 or fds[1] >= 65536) return sys.EINVAL;
    return fds[0] * 65536 + fds[1];
}

/// A new descriptor for the read end (for a reader that closes its descriptor when it stops).
pub export fn shmkit_dup(fd: i32) i32 {
    const rc = sys.result32(linux.fcntl(fd, 1030, 3)); // F_DUPFD_CLOEXEC
    return rc;
}

/// Like shmkit_wait_job_thread, but the helper sends {token, result} on socket `fd`.
pub export fn shmkit_wait_job_send(handle: f64, fd: i32, token: u32) i32 {
    const job = jobOf(handle) orelse return sys.EINVAL;
    if (fd < 0) return sys.EINVAL;
    job.fd = fd;
    job.token = token;
    _ = job.refs.fetchAdd(1, .acq_rel);
    const thread = std.Thread.spawn(.{ .stack_size = 64 * 1024 }, runThread, .{job}) catch {
        _ = job.refs.fetchSub(1, .acq_rel);
        return sys.EAGAIN;
    };
    thread.detach();
    return 0;
}

/// Starts a detached thread that runs the job and then calls callback(token, result)
/// — unless the job was cancelled or the calling thread has exited by then. The
/// thread takes its own reference. Returns 0, or -errno when no thread could start.
pub export fn shmkit_wait_job_thread(handle: f64, callback: ?Callback, token: u32) i32 {
    const job = jobOf(handle) orelse return sys.EINVAL;
    job.callback = callback orelse return sys.EINVAL;
    job.token = token;
    job.origin_tid = linux.gettid();
    _ = job.refs.fetchAdd(1, .acq_rel);
    const thread = std.Thread.spawn(.{ .stack_size = 64 * 1024 }, runThread, .{job}) catch {
        _ = job.refs.fetchSub(1, .acq_rel);
        return sys.EAGAIN;
    };
    thread.detach();
    return 0;
}

/// The calling thread's kernel thread id (equal to the pid on a process's main thread).
pub export fn shmkit_gettid() i32 {
    return linux.gettid();
}

/// Start time (clock ticks after boot) of thread `tid` of this process, or -ESRCH.
pub export fn shmkit_thread_start_time(pid: i32, tid: i32) f64 {
    if (pid <= 0 or tid <= 0) return @floatFromInt(sys.ESRCH);
    var path_buf: [48]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/task/{d}/stat", .{ pid, tid }) catch return @floatFromInt(sys.ESRCH);
    const fd_rc = sys.result(linux.openat(linux.AT.FDCWD, path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0));
    if (fd_rc < 0) return @floatFromInt(sys.ESRCH);
    const fd: i32 = @intCast(fd_rc);
    defer _ = linux.close(fd);
    var buf: [1024]u8 = undefined;
    const n = sys.result(linux.read(fd, &buf, buf.len));
    if (n <= 0) return @floatFromInt(sys.ESRCH);
    const text = buf[0..@intCast(n)];
    const close_paren = std.mem.lastIndexOfScalar(u8, text, ')') orelse return @floatFromInt(sys.ESRCH);
    var fields = std.mem.tokenizeScalar(u8, text[close_paren + 1 ..], ' ');
    var index: usize = 3;
    while (fields.next()) |field| : (index += 1) {
        if (index == 3 and (field[0] == 'Z' or field[0] == 'X')) return @floatFromInt(sys.ESRCH);
        if (index == 22) return @floatFromInt(std.fmt.parseInt(i64, field, 10) catch return @floatFromInt(sys.ESRCH));
    }
    return @floatFromInt(sys.ESRCH);
}

// ---- the original, non-cancellable helper (ABI 2; kept for older loaders) ----

const OldJob = struct { base: f64, offset: u32, expected: i32, timeout_ns: f64, callback: Callback, token: u32 };

fn runOld(job: OldJob) void {
    job.callback(job.token, futex.shmkit_futex_wait(job.base, job.offset, job.expected, job.timeout_ns));
}

/// Starts a detached thread that waits like shmkit_futex_wait, then calls
/// callback(token, result). Returns 0, or -errno when no thread could be started.
pub export fn shmkit_futex_wait_thread(base: f64, offset: u32, expected: i32, timeout_ns: f64, callback: ?Callback, token: u32) i32 {
    const cb = callback orelse return sys.EINVAL;
    const addr = sys.address(base, offset) orelse return sys.EINVAL;
    if (addr == 0 or addr % 4 != 0) return sys.EINVAL;
    const job = OldJob{ .base = base, .offset = offset, .expected = expected, .timeout_ns = timeout_ns, .callback = cb, .token = token };
    const thread = std.Thread.spawn(.{ .stack_size = 64 * 1024 }, runOld, .{job}) catch return sys.EAGAIN;
    thread.detach();
    return 0;
}

var test_result = std.atomic.Value(i32).init(1);
fn testCallback(token: u32, result: i32) callconv(.C) void {
    test_result.store(result + @as(i32, @intCast(token)), .seq_cst);
}

test "the helper thread reports a timeout through the callback" {
    var word: i32 = 0;
    try std.testing.expectEqual(@as(i32, 0), shmkit_futex_wait_thread(@floatFromInt(@intFromPtr(&word)), 0, 0, 1000, testCallback, 1000));
    while (test_result.load(.seq_cst) == 1) std.Thread.yield() catch {};
    try std.testing.expectEqual(@as(i32, 1000 - 110), test_result.load(.seq_cst));
}

test "a job times out, sees a changed word, and returns at once when cancelled" {
    var word: i32 = 7;
    const base: f64 = @floatFromInt(@intFromPtr(&word));
    const j1 = shmkit_wait_job_new(base, 0, 7, 1_000_000);
    try std.testing.expectEqual(ETIMEDOUT, shmkit_wait_job_run(j1));
    shmkit_wait_job_release(j1);
    const j2 = shmkit_wait_job_new(base, 0, 6, -1);
    try std.testing.expectEqual(sys.EAGAIN, shmkit_wait_job_run(j2));
    shmkit_wait_job_release(j2);
    const j3 = shmkit_wait_job_new(base, 0, 7, -1);
    shmkit_wait_job_cancel(j3);
    try std.testing.expectEqual(ECANCELED, shmkit_wait_job_run(j3));
    shmkit_wait_job_release(j3);
    try std.testing.expect(shmkit_thread_start_time(linux.getpid(), linux.gettid()) >= 0);
}
