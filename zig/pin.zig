//! Keeps the library mapped for the life of the process. Async futex waits run on
//! threads the library does not own (Deno's FFI thread pool; Bun's detached waiter
//! threads): if a runtime dlclose()d the library while such a wait was still parked
//! (Deno does when a worker or test module's isolate goes away), the thread would
//! return into unmapped code and crash the process. dlopen(RTLD_NODELETE) on ourselves
//! makes every later dlclose a no-op.
const std = @import("std");

const DlInfo = extern struct {
    dli_fname: ?[*:0]const u8,
    dli_fbase: ?*anyopaque,
    dli_sname: ?[*:0]const u8,
    dli_saddr: ?*anyopaque,
};
extern "c" fn dladdr(addr: *const anyopaque, info: *DlInfo) c_int;

var pinned = std.atomic.Value(bool).init(false);

/// Pins the library (once; later calls return at once). Best effort: on failure the
/// library just stays unloadable the ordinary way.
pub fn pin() void {
    if (pinned.swap(true, .acq_rel)) return;
    var info: DlInfo = undefined;
    if (dladdr(@ptrCast(&pin), &info) == 0) return;
    const path = info.dli_fname orelse return;
    _ = std.c.dlopen(path, .{ .NOW = true, .NOLOAD = true, .NODELETE = true });
}
