//! Baseline for bench/fastpath_rtt.bench.ts: the park-only futex ping-pong in native
//! code between two processes (fork, one shared anonymous page), no spinning: each side
//! parks on the turn word as soon as it is not its turn, and wakes the other after
//! flipping it. Prints one JSON line: {"p50_ns":…, "mean_ns":…, "rounds":…}.
//!   zig build-exe -OReleaseFast bench/fastpath_futex_pingpong.zig && ./fastpath_futex_pingpong 20000
const std = @import("std");
const linux = std.os.linux;

fn wait(w: *u32, v: u32) void {
    while (@atomicLoad(u32, w, .seq_cst) == v) _ = linux.syscall4(.futex, @intFromPtr(w), 0, v, 0);
}

fn flip(w: *u32, v: u32) void {
    @atomicStore(u32, w, v, .seq_cst);
    _ = linux.syscall3(.futex, @intFromPtr(w), 1, 1);
}

pub fn main() !void {
    var args = std.process.args();
    _ = args.next();
    const rounds = try std.fmt.parseInt(usize, args.next() orelse "20000", 10);
    const page = try std.posix.mmap(null, 4096, std.posix.PROT.READ | std.posix.PROT.WRITE, .{ .TYPE = .SHARED, .ANONYMOUS = true }, -1, 0);
    const turn: *u32 = @ptrCast(@alignCast(page.ptr));
    turn.* = 0;
    const pid = try std.posix.fork();
    if (pid == 0) { // echo: waits for 1, answers 0
        for (0..rounds + rounds / 10) |_| {
            wait(turn, 0);
            flip(turn, 0);
        }
        std.posix.exit(0);
    }
    const samples = try std.heap.page_allocator.alloc(u64, rounds);
    for (0..rounds + rounds / 10) |i| {
        var t = try std.time.Timer.start();
        flip(turn, 1);
        wait(turn, 1);
        if (i >= rounds / 10) samples[i - rounds / 10] = t.read();
    }
    _ = std.posix.waitpid(pid, 0);
    std.mem.sort(u64, samples, {}, std.sort.asc(u64));
    var sum: u64 = 0;
    for (samples) |s| sum += s;
    std.debug.print("{{\"p50_ns\":{d},\"mean_ns\":{d},\"rounds\":{d}}}\n", .{ samples[rounds / 2], sum / rounds, rounds });
}
