//! 64- and 128-bit atomics on base+offset that JavaScript lacks without BigInt.
//! Addresses arrive as (f64 base, u32 offset) and 64-bit values as f64 (see
//! sys.address), so that both runtimes call these on their FFI fast paths and no
//! runtime allocates a BigInt per call. An f64 holds every integer up to 2^53
//! exactly; the TypeScript side rejects results that are not safe integers. Invalid
//! addresses or values yield NaN (or do nothing, for store).
const std = @import("std");
const sys = @import("sys.zig");

const nan = std.math.nan(f64);

fn ptr64(base: f64, offset: u32) ?*i64 {
    const addr = sys.address(base, offset) orelse return null;
    if (addr == 0 or addr % 8 != 0) return null;
    return @ptrFromInt(addr);
}

pub export fn shmkit_load64(base: f64, offset: u32) f64 {
    const p = ptr64(base, offset) orelse return nan;
    return @floatFromInt(@atomicLoad(i64, p, .seq_cst));
}

pub export fn shmkit_store64(base: f64, offset: u32, value: f64) void {
    const p = ptr64(base, offset) orelse return;
    const v = sys.int64(value) orelse return;
    @atomicStore(i64, p, v, .seq_cst);
}

fn rmw(comptime op: std.builtin.AtomicRmwOp, base: f64, offset: u32, value: f64) f64 {
    const p = ptr64(base, offset) orelse return nan;
    const v = sys.int64(value) orelse return nan;
    return @floatFromInt(@atomicRmw(i64, p, op, v, .seq_cst));
}

/// The following return the previous value, as Atomics.* do.
pub export fn shmkit_add64(base: f64, offset: u32, value: f64) f64 {
    return rmw(.Add, base, offset, value);
}

pub export fn shmkit_and64(base: f64, offset: u32, value: f64) f64 {
    return rmw(.And, base, offset, value);
}

pub export fn shmkit_or64(base: f64, offset: u32, value: f64) f64 {
    return rmw(.Or, base, offset, value);
}

pub export fn shmkit_xor64(base: f64, offset: u32, value: f64) f64 {
    return rmw(.Xor, base, offset, value);
}

pub export fn shmkit_exchange64(base: f64, offset: u32, value: f64) f64 {
    return rmw(.Xchg, base, offset, value);
}

/// Compare-and-swap; returns the value found (== expected means it succeeded).
pub export fn shmkit_cas64(base: f64, offset: u32, expected: f64, desired: f64) f64 {
    const p = ptr64(base, offset) orelse return nan;
    const e = sys.int64(expected) orelse return nan;
    const d = sys.int64(desired) orelse return nan;
    return @floatFromInt(@cmpxchgStrong(i64, p, e, d, .seq_cst, .seq_cst) orelse e);
}

/// 128-bit compare-and-swap of the 16-byte aligned word at base+offset.
/// `args` is the address of four u64: expected low, expected high, desired low,
/// desired high. Returns 1 on success; 0 on failure, with the current value written
/// over `expected`; -EINVAL when an address is invalid or misaligned.
pub export fn shmkit_cas128(base: f64, offset: u32, args: f64) i32 {
    const addr = sys.address(base, offset) orelse return sys.EINVAL;
    const args_addr = sys.address(args, 0) orelse return sys.EINVAL;
    if (addr == 0 or addr % 16 != 0 or args_addr == 0 or args_addr % 8 != 0) return sys.EINVAL;
    const a: *[4]u64 = @ptrFromInt(args_addr);
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

fn f(p: anytype) f64 {
    return @floatFromInt(@intFromPtr(p));
}

test "cas64 and cas128" {
    var w: i64 align(16) = 7;
    const base = f(&w);
    try std.testing.expectEqual(@as(f64, 7), shmkit_cas64(base, 0, 7, 9));
    try std.testing.expectEqual(@as(f64, 9), shmkit_cas64(base, 0, 7, 11));
    try std.testing.expectEqual(@as(f64, 9), shmkit_add64(base, 0, 1));
    try std.testing.expectEqual(@as(f64, 10), shmkit_add64(base, 0, -0x1p40));
    try std.testing.expectEqual(@as(i64, 10 - (1 << 40)), w);
    try std.testing.expect(std.math.isNan(shmkit_add64(base, 1, 1)));
    try std.testing.expect(std.math.isNan(shmkit_add64(base + 0.5, 0, 1)));
    try std.testing.expect(std.math.isNan(shmkit_add64(base, 0, 0.5)));
    var q: u128 align(16) = 5;
    var args = [4]u64{ 5, 0, 6, 1 };
    try std.testing.expectEqual(@as(i32, 1), shmkit_cas128(f(&q), 0, f(&args)));
    try std.testing.expectEqual(@as(u128, 1) << 64 | 6, q);
    args = .{ 5, 0, 0, 0 };
    try std.testing.expectEqual(@as(i32, 0), shmkit_cas128(f(&q), 0, f(&args)));
    try std.testing.expectEqual(@as(u64, 6), args[0]);
    try std.testing.expectEqual(@as(u64, 1), args[1]);
}
