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

/// Creates an unnamed object in /dev/shm (O_TMPFILE): the creator sizes and initialises
/// it, then gives it its name with shmkit_shm_link, so a name never refers to a
/// half-made segment. Returns a file descriptor or -errno (-EOPNOTSUPP where the
/// filesystem has no O_TMPFILE).
pub export fn shmkit_shm_create_unnamed(mode: u32) i32 {
    const flags = linux.O{ .ACCMODE = .RDWR, .TMPFILE = true, .DIRECTORY = true, .CLOEXEC = true };
    return sys.result32(linux.openat(linux.AT.FDCWD, "/dev/shm", flags, mode));
}

/// Names the unnamed object `fd` `name`. expect_fd < 0: fails with -EEXIST if the name
/// exists. expect_fd >= 0: atomically replaces the object the name refers to, only if
/// that is still the object open as expect_fd (else -ESTALE); the caller holds
/// flock(expect_fd, LOCK_EX), which serialises replacers of one object.
pub export fn shmkit_shm_link(fd: i32, name: [*:0]const u8, expect_fd: i32) i32 {
    var buf: [shm_dir.len + max_name + 1]u8 = undefined;
    const p = path(&buf, name) orelse return sys.EINVAL;
    var src_buf: [32]u8 = undefined;
    const src = std.fmt.bufPrintZ(&src_buf, "/proc/self/fd/{d}", .{fd}) catch return sys.EINVAL;
    const follow: i32 = 0x400; // AT_SYMLINK_FOLLOW
    if (expect_fd < 0) return sys.result32(linux.linkat(linux.AT.FDCWD, src, linux.AT.FDCWD, p, follow));
    var want: linux.Stat = undefined;
    var have: linux.Stat = undefined;
    var rc = sys.result32(linux.fstat(expect_fd, &want));
    if (rc < 0) return rc;
    rc = sys.result32(linux.fstatat(linux.AT.FDCWD, p, &have, 0x100)); // AT_SYMLINK_NOFOLLOW
    if (rc == -@as(i32, @intFromEnum(linux.E.NOENT))) return -@as(i32, @intFromEnum(linux.E.STALE));
    if (rc < 0) return rc;
    if (want.ino != have.ino or want.dev != have.dev) return -@as(i32, @intFromEnum(linux.E.STALE));
    var tmp_buf: [64]u8 = undefined;
    const tmp = std.fmt.bufPrintZ(&tmp_buf, "/dev/shm/.shmkit-replace-{d}-{d}", .{ linux.getpid(), fd }) catch return sys.EINVAL;
    _ = linux.unlink(tmp);
    rc = sys.result32(linux.linkat(linux.AT.FDCWD, src, linux.AT.FDCWD, tmp, follow));
    if (rc < 0) return rc;
    rc = sys.result32(linux.rename(tmp, p));
    if (rc < 0) _ = linux.unlink(tmp);
    return rc;
}

/// flock(2) on an object's fd: op is LOCK_SH 1, LOCK_EX 2, LOCK_UN 8, | LOCK_NB 4.
pub export fn shmkit_flock(fd: i32, op: i32) i32 {
    return sys.result32(linux.flock(fd, op));
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

test "unnamed create, exclusive link, guarded replace" {
    const name = "shmkit-zig-unit-link";
    _ = shmkit_shm_unlink(name);
    const a = shmkit_shm_create_unnamed(0o600);
    try std.testing.expect(a >= 0);
    try std.testing.expectEqual(@as(i32, 0), shmkit_shm_link(a, name, -1));
    try std.testing.expect(shmkit_shm_link(a, name, -1) == -@as(i32, @intFromEnum(linux.E.EXIST)));
    const b = shmkit_shm_create_unnamed(0o600);
    const c = shmkit_shm_create_unnamed(0o600);
    try std.testing.expectEqual(@as(i32, 0), shmkit_flock(a, 2 | 4));
    try std.testing.expectEqual(@as(i32, 0), shmkit_shm_link(b, name, a)); // name -> b
    try std.testing.expect(shmkit_shm_link(c, name, a) == -@as(i32, @intFromEnum(linux.E.STALE)));
    _ = shmkit_close(a);
    _ = shmkit_close(b);
    _ = shmkit_close(c);
    try std.testing.expectEqual(@as(i32, 0), shmkit_shm_unlink(name));
}
