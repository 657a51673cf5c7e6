//! libshmkit: the native half of shmkit. Exposes over a C ABI only what JavaScript
//! cannot do itself. Every function returns -errno on failure.
comptime {
    _ = @import("shm.zig");
    _ = @import("futex.zig");
    _ = @import("atomics.zig");
    _ = @import("process.zig");
    _ = @import("waiter.zig");
    _ = @import("fastpath.zig");
    _ = @import("fence.zig");
}

/// ABI version, checked by the TypeScript loader against the one it was written for.
pub export fn shmkit_abi_version() i32 {
    // Called by both loaders right after dlopen: pin the library (see pin.zig).
    @import("pin.zig").pin();
    // And register the process for the asymmetric wake fence before any fast path runs.
    @import("fence.zig").register();
    return @import("abi.zig").version;
}
