//! Builds libshmkit (zig-out/lib/libshmkit.so): the only native code of shmkit.
//! Pinned to Zig 0.14.1 (see build.zig.zon). `zig build` builds ReleaseFast unless
//! `-Doptimize=...` says otherwise.
const std = @import("std");

pub fn build(b: *std.Build) void {
    var query = b.standardTargetOptionsQueryOnly(.{});
    // cmpxchg16b is needed for the 128-bit CAS; without it Zig would fall back to a
    // lock-based libcall that is not atomic between processes.
    const arch = query.cpu_arch orelse @import("builtin").cpu.arch;
    if (arch == .x86_64) query.cpu_features_add.addFeature(@intFromEnum(std.Target.x86.Feature.cx16));
    const target = b.resolveTargetQuery(query);
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "Optimization mode (default ReleaseFast)") orelse .ReleaseFast;

    const mod = b.createModule(.{
        .root_source_file = b.path("zig/root.zig"),
        .target = target,
        .optimize = optimize,
        // libc only for pthread_create: a thread that calls back into Bun or Deno must be
        // a real pthread of the host process, not a bare clone().
        .link_libc = true,
    });
    const lib = b.addLibrary(.{ .name = "shmkit", .linkage = .dynamic, .root_module = mod });
    b.installArtifact(lib);

    const tests = b.addTest(.{ .root_module = mod });
    const run_tests = b.addRunArtifact(tests);
    b.step("test", "Run the Zig unit tests").dependOn(&run_tests.step);
}
