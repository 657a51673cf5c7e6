//! Turns raw Linux syscall results into the C ABI convention used by every export:
//! a non-negative value on success, a negative errno on failure.
const std = @import("std");
const linux = std.os.linux;

pub fn result(rc: usize) i64 {
    return @as(i64, @bitCast(rc)); // the kernel returns -errno in [-4095, -1]
}

pub fn result32(rc: usize) i32 {
    return @intCast(result(rc));
}

pub const EINVAL: i32 = -@as(i32, @intFromEnum(linux.E.INVAL));
pub const ENAMETOOLONG: i32 = -@as(i32, @intFromEnum(linux.E.NAMETOOLONG));
pub const EAGAIN: i32 = -@as(i32, @intFromEnum(linux.E.AGAIN));
pub const ESRCH: i64 = -@as(i64, @intFromEnum(linux.E.SRCH));

/// Hot-path exports take the mapping's base address as an f64 and the offset as a u32:
/// Deno's FFI fast path handles f64/u32 arguments (about 5 ns a call) but converts
/// usize/i64 ones slowly (about 70 ns, measured). Addresses are below 2^48, which an
/// f64 holds exactly. Returns null for a base that is not such an integer.
pub fn address(base: f64, offset: u32) ?usize {
    if (!(base >= 0 and base < 0x1p53) or @floor(base) != base) return null;
    const b: usize = @intFromFloat(base);
    return b + offset;
}

/// 64-bit values cross the C ABI as f64 (exact for integers within ±2^53; JS numbers
/// cannot hold more). Returns null for NaN, infinities, fractions or values beyond 2^63.
pub fn int64(v: f64) ?i64 {
    if (!(v >= -0x1p63 and v < 0x1p63) or @floor(v) != v) return null;
    return @intFromFloat(v);
}
