//! 64- and 128-bit atomics on base+offset that JavaScript lacks without BigInt.
//! Arguments are i64 (both runtimes accept a JS number); results are f64 so that no
//! runtime allocates a BigInt per call. An f64 holds every integer up to 2^53 exactly;
//! the TypeScript side rejects results that are not safe integers.
const std = @import("std");
const sys = @import("sys.zig");

fn ptr64(base: usize, offset: usize) ?*i64 {
    const addr = base + offset;
    if (addr == 0 or addr % 8 != 0) return null;
    return @ptrFromInt(addr);
}

pub export fn shmkit_load64(base: usize, offset: usize) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@atomicLoad(i64, p, .seq_cst));
}

pub export fn shmkit_store64(base: usize, offset: usize, value: i64) void {
    const p = ptr64(base, offset) orelse return;
    @atomicStore(i64, p, value, .seq_cst);
}

/// The following return the previous value, as Atomics.* do.
pub export fn shmkit_add64(base: usize, offset: usize, value: i64) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@atomicRmw(i64, p, .Add, value, .seq_cst));
}

pub export fn shmkit_and64(base: usize, offset: usize, value: i64) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@atomicRmw(i64, p, .And, value, .seq_cst));
}

pub export fn shmkit_or64(base: usize, offset: usize, value: i64) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@atomicRmw(i64, p, .Or, value, .seq_cst));
}

pub export fn shmkit_xor64(base: usize, offset: usize, value: i64) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@atomicRmw(i64, p, .Xor, value, .seq_cst));
}

pub export fn shmkit_exchange64(base: usize, offset: usize, value: i64) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@atomicRmw(i64, p, .Xchg, value, .seq_cst));
}

/// Compare-and-swap; returns the value found (== expected means it succeeded).
pub export fn shmkit_cas64(base: usize, offset: usize, expected: i64, desired: i64) f64 {
    const p = ptr64(base, offset) orelse return std.math.nan(f64);
    return @floatFromInt(@cmpxchgStrong(i64, p, expected, desired, .seq_cst, .seq_cst) orelse expected);
}

/// 128-bit compare-and-swap of the 16-byte aligned word at base+offset.
/// `args` points at four u64: expected low, expected high, desired low, desired high.
/// Returns 1 on success; 0 on failure, with the current value written over `expected`;
/// -EINVAL when an address is misaligned.
pub export fn shmkit_cas128(base: usize, offset: usize, args: usize) i32 {
    const addr = base + offset;
    if (addr == 0 or addr % 16 != 0 or args == 0 or args % 8 != 0) return sys.EINVAL;
    const a: *[4]u64 = @ptrFromInt(args);
    const expected = @as(u128, a[1]) << 64 | a[0];
    const desired = @as(u128, a[3]) << 64 | a[2];
    const p: *u128 = @ptrFromInt(addr);
    if (@cmpxchgStrong(u128, p, expected, desired, .seq_cst, .seq_cst)) |current| {
        a[0] = @truncate(current);
        a[1] = @truncate(current >> 64);
        return 0;
    }
    return 1;
}

test "cas64 and cas128" {
    var w: i64 align(16) = 7;
    const base = @intFromPtr(&w);
    try std.testing.expectEqual(@as(f64, 7), shmkit_cas64(base, 0, 7, 9));
    try std.testing.expectEqual(@as(f64, 9), shmkit_cas64(base, 0, 7, 11));
    try std.testing.expectEqual(@as(f64, 9), shmkit_add64(base, 0, 1));
    try std.testing.expect(std.math.isNan(shmkit_add64(base, 1, 1)));
    var q: u128 align(16) = 5;
    var args = [4]u64{ 5, 0, 6, 1 };
    try std.testing.expectEqual(@as(i32, 1), shmkit_cas128(@intFromPtr(&q), 0, @intFromPtr(&args)));
    try std.testing.expectEqual(@as(u128, 1) << 64 | 6, q);
    args = .{ 5, 0, 0, 0 };
    try std.testing.expectEqual(@as(i32, 0), shmkit_cas128(@intFromPtr(&q), 0, @intFromPtr(&args)));
    try std.testing.expectEqual(@as(u64, 6), args[0]);
    try std.testing.expectEqual(@as(u64, 1), args[1]);
}
