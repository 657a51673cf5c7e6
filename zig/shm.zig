//! POSIX shared memory objects. shm_open(3) is open(2) on /dev/shm, which is what
//! glibc and musl do; calling the syscalls directly keeps the library free of libc.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

const shm_dir = "/dev/shm/";
const max_name = 255;

pub const OPEN: i32 = 0; // open an existing object
pub const CREATE: i32 = 1; // create, fail with EEXIST if it exists
pub const OPEN_OR_CREATE: i32 = 2;

fn path(buf: *[shm_dir.len + max_name + 1]u8, name: [*:0]const u8) ?[*:0]const u8 {
    const n = std.mem.len(name);
    if (n == 0 or n > max_name) return null;
    for (name[0..n]) |c| if (c == '/') return null;
    @memcpy(buf[0..shm_dir.len], shm_dir);
    @memcpy(buf[shm_dir.len..][0..n], name[0..n]);
    buf[shm_dir.len + n] = 0;
    return @ptrCast(buf);
}

/// Returns a file descriptor or -errno.
pub export fn shmkit_shm_open(name: [*:0]const u8, how: i32, mode: u32) i32 {
    var buf: [shm_dir.len + max_name + 1]u8 = undefined;
    const p = path(&buf, name) orelse return sys.EINVAL;
    var flags = linux.O{ .ACCMODE = .RDWR, .NOFOLLOW = true, .CLOEXEC = true };
    switch (how) {
        OPEN => {},
        CREATE => {
            flags.CREAT = true;
            flags.EXCL = true;
        },
        OPEN_OR_CREATE => flags.CREAT = true,
        else => return sys.EINVAL,
    }
    return sys.result32(linux.openat(linux.AT.FDCWD, p, flags, mode));
}

pub export fn shmkit_shm_unlink(name: [*:0]const u8) i32 {
    var buf: [shm_dir.len + max_name + 1]u8 = undefined;
    const p = path(&buf, name) orelse return sys.EINVAL;
    return sys.result32(linux.unlink(p));
}

pub export fn shmkit_close(fd: i32) i32 {
    return sys.result32(linux.close(fd));
}

/// Sets the object's size (ftruncate). Growing fills with zero bytes.
pub export fn shmkit_resize(fd: i32, size: i64) i32 {
    if (size < 0) return sys.EINVAL;
    return sys.result32(linux.ftruncate(fd, size));
}

/// Returns the object's size in bytes or -errno.
pub export fn shmkit_size(fd: i32) i64 {
    var st: linux.Stat = undefined;
    const rc = sys.result(linux.fstat(fd, &st));
    if (rc < 0) return rc;
    return st.size;
}

/// Maps `size` bytes shared and read-write. Returns the address or -errno.
pub export fn shmkit_map(fd: i32, size: i64) i64 {
    if (size <= 0) return sys.EINVAL;
    const prot = linux.PROT.READ | linux.PROT.WRITE;
    return sys.result(linux.mmap(null, @intCast(size), prot, .{ .TYPE = .SHARED }, fd, 0));
}

pub export fn shmkit_unmap(addr: usize, size: i64) i32 {
    if (size <= 0 or addr == 0) return sys.EINVAL;
    return sys.result32(linux.munmap(@ptrFromInt(addr), @intCast(size)));
}

test "create, size, map, unlink" {
    const name = "shmkit-zig-unit-test";
    _ = shmkit_shm_unlink(name);
    const fd = shmkit_shm_open(name, CREATE, 0o600);
    try std.testing.expect(fd >= 0);
    try std.testing.expect(shmkit_shm_open(name, CREATE, 0o600) == -@as(i32, @intFromEnum(linux.E.EXIST)));
    try std.testing.expectEqual(@as(i32, 0), shmkit_resize(fd, 4096));
    try std.testing.expectEqual(@as(i64, 4096), shmkit_size(fd));
    const addr = shmkit_map(fd, 4096);
    try std.testing.expect(addr > 0);
    try std.testing.expectEqual(@as(i32, 0), shmkit_unmap(@intCast(addr), 4096));
    try std.testing.expectEqual(@as(i32, 0), shmkit_close(fd));
    try std.testing.expectEqual(@as(i32, 0), shmkit_shm_unlink(name));
    try std.testing.expect(shmkit_shm_open("a/b", OPEN, 0) == sys.EINVAL);
}
