//! Process identity for liveness checks. A pid alone can be reused by the kernel,
//! so shmkit records (pid, start time) and calls a process alive only while a
//! process with that pid and that start time exists and is not a zombie.
const std = @import("std");
const linux = std.os.linux;
const sys = @import("sys.zig");

pub export fn shmkit_getpid() i32 {
    return linux.getpid();
}

/// Start time of `pid` in clock ticks after boot (field 22 of /proc/PID/stat), or
/// -ESRCH when there is no such process or it is a zombie.
pub export fn shmkit_process_start_time(pid: i32) i64 {
    if (pid <= 0) return sys.ESRCH;
    var path_buf: [32]u8 = undefined;
    const path = std.fmt.bufPrintZ(&path_buf, "/proc/{d}/stat", .{pid}) catch return sys.ESRCH;
    const fd_rc = sys.result(linux.openat(linux.AT.FDCWD, path, .{ .ACCMODE = .RDONLY, .CLOEXEC = true }, 0));
    if (fd_rc < 0) return sys.ESRCH;
    const fd: i32 = @intCast(fd_rc);
    defer _ = linux.close(fd);
    var buf: [1024]u8 = undefined;
    const n = sys.result(linux.read(fd, &buf, buf.len));
    if (n <= 0) return sys.ESRCH;
    const text = buf[0..@intCast(n)];
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const close_paren = std.mem.lastIndexOfScalar(u8, text, ')') orelse return sys.ESRCH;
    var fields = std.mem.tokenizeScalar(u8, text[close_paren + 1 ..], ' ');
    var index: usize = 3; // the first field after ')' is field 3, the state
    while (fields.next()) |field| : (index += 1) {
        if (index == 3 and (field[0] == 'Z' or field[0] == 'X')) return sys.ESRCH;
        if (index == 22) return std.fmt.parseInt(i64, field, 10) catch sys.ESRCH;
    }
    return sys.ESRCH;
}

test "own start time is known, a non-existent pid is not" {
    try std.testing.expect(shmkit_process_start_time(shmkit_getpid()) >= 0);
    try std.testing.expectEqual(sys.ESRCH, shmkit_process_start_time(0x3fffffff));
}
