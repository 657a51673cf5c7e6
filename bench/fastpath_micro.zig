//! Where a fast-path push+pop pair's time goes, in a native loop (no FFI, no process
//! boundary): the bare Rigtorp SPSC pair of bench/c/spsc.h (release stores), the same
//! with the wake handshake's store→load pair done three ways (`xchg`, `mov; lock or`
//! on the stack, `mov; mfence`), the bare Vyukov MPMC pair of bench/c/mpmc.h with and
//! without the handshake, and shmkit's own fast paths (zig/fastpath.zig, called
//! as bench/fastpath_floor.ts's "native loop" rows call them), first unregistered (the
//! Dekker publish), then registered for membarrier as every process that loads the
//! library is (the light publish). Best of 7 rounds of 5M pairs; one line per row on
//! stderr. See docs/DECISIONS.md "Fast paths".
//!   zig build-exe -OReleaseFast -mcpu=baseline -lc --dep fastpath -Mroot=bench/fastpath_micro.zig \
//!     -Mfastpath=zig/fastpath.zig -femit-bin=/tmp/fastpath_micro && /tmp/fastpath_micro
//! (-mcpu=baseline: the packaged libraries' CPU.)
const std = @import("std");
const fp = @import("fastpath");

var mem: [4096]u8 align(4096) = [_]u8{0} ** 4096;
var st: [fp.STATE_BYTES / 8]u64 align(8) = [_]u64{0} ** (fp.STATE_BYTES / 8);
var values: [512]f64 = [_]f64{0} ** 512;
const SLOTS: u32 = 64;
const N: u32 = 5_000_000;

inline fn w32(a: usize) *u32 {
    return @ptrFromInt(a);
}

const Fence = enum { none, xchg, lock_or, mfence };

/// Index store (+ the handshake's fence and waiters load, unless `none`).
inline fn publish(comptime f: Fence, at: usize, v: u32, waiters: usize) bool {
    switch (f) {
        .none => @atomicStore(u32, w32(at), v, .release),
        .xchg => @atomicStore(u32, w32(at), v, .seq_cst),
        .lock_or => {
            @atomicStore(u32, w32(at), v, .release);
            asm volatile ("lock orl $0, -64(%%rsp)" ::: "memory", "cc");
        },
        .mfence => {
            @atomicStore(u32, w32(at), v, .release);
            asm volatile ("mfence" ::: "memory");
        },
    }
    return f == .none or @atomicLoad(u32, w32(waiters), .seq_cst) == 0;
}

/// bench/c/spsc.h's push and pop, inlined, W at +0 (waiters +12), R at +64 (waiters +76).
fn rigtorp(comptime f: Fence) fn () f64 {
    return struct {
        fn run() f64 {
            const b = @intFromPtr(&mem);
            var cr: u32 = 0;
            var cw: u32 = 0;
            var sum: f64 = 0;
            var i: u32 = 0;
            while (i < N) : (i += 1) {
                const w = @atomicLoad(u32, w32(b), .monotonic);
                var nx = w + 1;
                if (nx == SLOTS) nx = 0;
                if (nx == cr) {
                    cr = @atomicLoad(u32, w32(b + 64), .acquire);
                    if (nx == cr) return -1;
                }
                @as(*f64, @ptrFromInt(b + 128 + w * 8)).* = @floatFromInt(i);
                if (!publish(f, b, nx, b + 12)) return -2;
                const r = @atomicLoad(u32, w32(b + 64), .monotonic);
                if (r == cw) {
                    cw = @atomicLoad(u32, w32(b), .acquire);
                    if (r == cw) return -1;
                }
                sum += @as(*f64, @ptrFromInt(b + 128 + r * 8)).*;
                var nr = r + 1;
                if (nr == SLOTS) nr = 0;
                if (!publish(f, b + 64, nr, b + 76)) return -2;
                std.mem.doNotOptimizeAway(&sum);
            }
            return sum;
        }
    }.run;
}

/// bench/c/mpmc.h's push and pop (Vyukov, CAS claims), inlined: enqueue position at
/// 2048, dequeue at 2048 + 64, 64 slots of (u32 sequence, f64) at 2048 + 128; with
/// `handshake`, the sequence stores are seq_cst (xchg) and each is followed by the
/// waiters load, as the fast paths do (without their claim records and checks).
fn vyukov(comptime handshake: bool) fn () f64 {
    return struct {
        fn run() f64 {
            const b = @intFromPtr(&mem) + 2048;
            var sum: f64 = 0;
            var i: u32 = 0;
            while (i < N) : (i += 1) {
                var pos = @atomicLoad(u32, w32(b), .monotonic);
                while (true) {
                    const slot = b + 128 + @as(usize, pos & (SLOTS - 1)) * 16;
                    const dif: i32 = @bitCast(@atomicLoad(u32, w32(slot), .acquire) -% pos);
                    if (dif != 0) return -1;
                    if (@cmpxchgWeak(u32, w32(b), pos, pos +% 1, .seq_cst, .monotonic)) |now| {
                        pos = now;
                        continue;
                    }
                    @as(*f64, @ptrFromInt(slot + 8)).* = @floatFromInt(i);
                    if (handshake) {
                        @atomicStore(u32, w32(slot), pos +% 1, .seq_cst);
                        if (@atomicLoad(u32, w32(b + 12), .seq_cst) != 0) return -2;
                    } else @atomicStore(u32, w32(slot), pos +% 1, .release);
                    break;
                }
                pos = @atomicLoad(u32, w32(b + 64), .monotonic);
                while (true) {
                    const slot = b + 128 + @as(usize, pos & (SLOTS - 1)) * 16;
                    const dif: i32 = @bitCast(@atomicLoad(u32, w32(slot), .acquire) -% (pos +% 1));
                    if (dif != 0) return -1;
                    if (@cmpxchgWeak(u32, w32(b + 64), pos, pos +% 1, .seq_cst, .monotonic)) |now| {
                        pos = now;
                        continue;
                    }
                    sum += @as(*f64, @ptrFromInt(slot + 8)).*;
                    if (handshake) {
                        @atomicStore(u32, w32(slot), pos +% SLOTS, .seq_cst);
                        if (@atomicLoad(u32, w32(b + 76), .seq_cst) != 0) return -2;
                    } else @atomicStore(u32, w32(slot), pos +% SLOTS, .release);
                    break;
                }
                std.mem.doNotOptimizeAway(&sum);
            }
            return sum;
        }
    }.run;
}

fn spsc(comptime kind: u32) fn () f64 {
    return struct {
        fn run() f64 {
            const s: f64 = @floatFromInt(@intFromPtr(&st));
            if (fp.shmkit_spsc_bind(s, @floatFromInt(@intFromPtr(&mem)), 0, 128, SLOTS, kind, 0, 0, 0) != fp.OK) return -1;
            return fp.shmkit_bench_spsc_pairs(s, N);
        }
    }.run;
}

fn mpmc() f64 {
    const s: f64 = @floatFromInt(@intFromPtr(&st));
    const vs: f64 = @floatFromInt(@intFromPtr(&values));
    if (fp.shmkit_mpmc_bind(s, @floatFromInt(@intFromPtr(&mem)), 2048, 2048 + 128, SLOTS, SLOTS, 7 | 8 << 8 | 16 << 16, 1024, 0, vs, 512) != fp.OK) return -1;
    return fp.shmkit_bench_mpmc_pairs(s, N);
}

/// Best of 7 rounds of each row, printed one per line.
fn measure(comptime rows: anytype) void {
    var best = [_]f64{std.math.inf(f64)} ** rows.len;
    const b = @intFromPtr(&mem);
    for (0..7) |_| {
        inline for (rows, 0..) |row, k| {
            @memset(&mem, 0);
            for (0..SLOTS) |q| w32(b + 2048 + 128 + q * 16).* = @intCast(q); // the Queue's initial sequences
            st = [_]u64{0} ** (fp.STATE_BYTES / 8);
            const t = std.time.nanoTimestamp();
            const sum = row[1]();
            const ns = @as(f64, @floatFromInt(std.time.nanoTimestamp() - t)) / N;
            if (sum < 0 or sum != sum) std.debug.print("{s}: failed\n", .{row[0]});
            best[k] = @min(best[k], ns);
        }
    }
    inline for (rows, 0..) |row, k| std.debug.print("{s:<48} {d:6.2} ns/pair\n", .{ row[0], best[k] });
}

pub fn main() void {
    measure(.{
        .{ "Rigtorp pair, release stores (bench/c/spsc.h)", rigtorp(.none) },
        .{ "+ handshake, xchg", rigtorp(.xchg) },
        .{ "+ handshake, mov; lock or -64(%rsp)", rigtorp(.lock_or) },
        .{ "+ handshake, mov; mfence", rigtorp(.mfence) },
        .{ "Vyukov pair, release stores (bench/c/mpmc.h)", vyukov(false) },
        .{ "+ handshake, xchg", vyukov(true) },
        .{ "shmkit_spsc_push+pop, f64", spsc(7) },
        .{ "shmkit_spsc_push+pop, u32", spsc(5) },
        .{ "shmkit_mpmc_push+pop, f64", mpmc },
    });
    // The rows above publish in the Dekker form (seq_cst store, then the waiters load): a
    // process the library has not registered for membarrier. Every process that loads
    // the library is registered (root.zig), and publishes with release stores while no
    // waiter has armed the eventcount (fence.zig): what the handles do.
    fp.fence.register();
    if (!fp.fence.light()) std.debug.print("membarrier registration refused: the rows below are the Dekker form again\n", .{});
    measure(.{
        .{ "shmkit_spsc_push+pop, f64, registered", spsc(7) },
        .{ "shmkit_mpmc_push+pop, f64, registered", mpmc },
    });
}
