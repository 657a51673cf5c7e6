//! Futex waits that do not block the caller's thread: a short-lived helper thread
//! waits and reports through a C callback. Bun uses this with a thread-safe
//! JSCallback (Deno instead runs shmkit_futex_wait as a `nonblocking` FFI symbol).
const std = @import("std");
const futex = @import("futex.zig");
const sys = @import("sys.zig");

pub const Callback = *const fn (token: u32, result: i32) callconv(.C) void;

const Job = struct { base: f64, offset: u32, expected: i32, timeout_ns: f64, callback: Callback, token: u32 };

fn run(job: Job) void {
    job.callback(job.token, futex.shmkit_futex_wait(job.base, job.offset, job.expected, job.timeout_ns));
}

/// Starts a detached thread that waits like shmkit_futex_wait, then calls
/// callback(token, result). Returns 0, or -errno when no thread could be started.
pub export fn shmkit_futex_wait_thread(base: f64, offset: u32, expected: i32, timeout_ns: f64, callback: ?Callback, token: u32) i32 {
    const cb = callback orelse return sys.EINVAL;
    const addr = sys.address(base, offset) orelse return sys.EINVAL;
    if (addr == 0 or addr % 4 != 0) return sys.EINVAL;
    const job = Job{ .base = base, .offset = offset, .expected = expected, .timeout_ns = timeout_ns, .callback = cb, .token = token };
    const thread = std.Thread.spawn(.{ .stack_size = 64 * 1024 }, run, .{job}) catch return sys.EAGAIN;
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
