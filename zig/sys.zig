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
