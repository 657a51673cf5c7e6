//! Builds libshmkit, the only native code of shmkit. Pinned to Zig 0.14.1 (see
//! build.zig.zon).
//!
//! `zig build` makes two things:
//! - zig-out/lib/libshmkit.so for this machine (its own CPU features; `-Doptimize=...`,
//!   `-Dtarget=...` apply), used by a checkout when nothing else is found;
//! - native/, the folder the JSR and npm packages ship: libshmkit for every packaged
//!   target (baseline CPU, glibc 2.17 or musl, stripped, so the same sources give the
//!   same bytes), manifest.json with their sha256, and embed-<target>.ts (base64) for
//!   HTTP imports. `-Dpackage=false` skips it.
//! `zig build native -p DIR` writes that folder to DIR/native only (the reproducibility
//! test builds it twice that way and compares bytes).
const std = @import("std");

/// The targets the packages ship, named as the loader (ffi/platform.ts) names them.
const packaged = [_]struct { name: []const u8, arch: std.Target.Cpu.Arch, abi: std.Target.Abi }{
    .{ .name = "x86_64-linux-gnu", .arch = .x86_64, .abi = .gnu },
    .{ .name = "aarch64-linux-gnu", .arch = .aarch64, .abi = .gnu },
    .{ .name = "x86_64-linux-musl", .arch = .x86_64, .abi = .musl },
    .{ .name = "aarch64-linux-musl", .arch = .aarch64, .abi = .musl },
};

/// cmpxchg16b is needed for the 128-bit CAS; without it Zig would fall back to a
/// lock-based libcall that is not atomic between processes.
fn withCx16(query: *std.Target.Query, arch: std.Target.Cpu.Arch) void {
    if (arch == .x86_64) query.cpu_features_add.addFeature(@intFromEnum(std.Target.x86.Feature.cx16));
}

fn library(b: *std.Build, target: std.Build.ResolvedTarget, optimize: std.builtin.OptimizeMode, strip: ?bool) *std.Build.Step.Compile {
    const mod = b.createModule(.{
        .root_source_file = b.path("zig/root.zig"),
        .target = target,
        .optimize = optimize,
        .strip = strip,
        // libc only for pthread_create: a thread that calls back into Bun or Deno must be
        // a real pthread of the host process, not a bare clone().
        .link_libc = true,
    });
    return b.addLibrary(.{ .name = "shmkit", .linkage = .dynamic, .root_module = mod });
}

pub fn build(b: *std.Build) void {
    var query = b.standardTargetOptionsQueryOnly(.{});
    withCx16(&query, query.cpu_arch orelse @import("builtin").cpu.arch);
    const target = b.resolveTargetQuery(query);
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "Optimization mode (default ReleaseFast)") orelse .ReleaseFast;
    const package = b.option(bool, "package", "Also write native/ (the packaged libraries and manifest; default true)") orelse true;

    const lib = library(b, target, optimize, null);
    b.installArtifact(lib);

    // The packaged set. Baseline CPUs (a package runs on any machine of its arch), the
    // oldest glibc that has aarch64 (2.17), and no debug info: unstripped output embeds
    // the paths of the source and of the cache, so it differs from one clone to another.
    const manifest_tool = b.addExecutable(.{
        .name = "manifest",
        .root_module = b.createModule(.{ .root_source_file = b.path("zig/manifest.zig"), .target = b.graph.host }),
    });
    const gen = b.addRunArtifact(manifest_tool);
    const gen_dir = gen.addOutputDirectoryArg("native");
    const native_step = b.step("native", "Write the packaged libraries, manifest.json and embed modules to <prefix>/native");
    const update = b.addUpdateSourceFiles();
    for (packaged) |p| {
        var q: std.Target.Query = .{
            .cpu_arch = p.arch,
            .os_tag = .linux,
            .abi = p.abi,
            .cpu_model = .baseline,
            .glibc_version = if (p.abi == .gnu) .{ .major = 2, .minor = 17, .patch = 0 } else null,
        };
        withCx16(&q, p.arch);
        const l = library(b, b.resolveTargetQuery(q), .ReleaseFast, true);
        const file = b.fmt("libshmkit-{s}.so", .{p.name});
        gen.addArg(p.name);
        gen.addArtifactArg(l);
        native_step.dependOn(&b.addInstallFileWithDir(l.getEmittedBin(), .{ .custom = "native" }, file).step);
        update.addCopyFileToSource(l.getEmittedBin(), b.fmt("native/{s}", .{file}));
        const embed = b.fmt("embed-{s}.ts", .{p.name});
        update.addCopyFileToSource(gen_dir.path(b, embed), b.fmt("native/{s}", .{embed}));
    }
    native_step.dependOn(&b.addInstallDirectory(.{ .source_dir = gen_dir, .install_dir = .{ .custom = "native" }, .install_subdir = "" }).step);
    update.addCopyFileToSource(gen_dir.path(b, "manifest.json"), "native/manifest.json");
    if (package) b.getInstallStep().dependOn(&update.step);

    const tests = b.addTest(.{ .root_module = lib.root_module });
    const run_tests = b.addRunArtifact(tests);
    b.step("test", "Run the Zig unit tests").dependOn(&run_tests.step);
}
