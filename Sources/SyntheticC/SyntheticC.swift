// SyntheticC — the generator of synthetic multi-file C programs that ltod's
// end-to-end tests and benchmarks link through ltod and through plain
// `gcc -flto`, compare byte for byte, and run.
//
// This module owns: the program model and its deterministic generation from a
// seed (Model.swift, SplitMix64.swift), rendering it to C (Render.swift),
// computing by construction what the program prints (Evaluate.swift), and the
// catalogue of source edits used for edit-compile cycles (this file). It does
// no process spawning and no compiling: tests and benchmarks do that.
//
// Shape of a generated program (spec.files = N modules):
// - `common.h`: included by every .c file; declares every module's external
//   symbols, the shared `struct syn_stats`, the `syn_fn` function type, the
//   `SYN_SCALE`/`SYN_MIX` macros and the `static inline syn_mix` function
//   (the `sharedHeader` edit changes `SYN_SCALE`, which every file uses).
// - `m001.c` ... `mNNN.c`: each has a static mutable global, an external
//   `struct syn_stats` global, an external `const` table and a `static const`
//   table, a static helper, `functionsPerFile` loop "workers" (every third one,
//   j = 2, 5, ..., external and also called from the previous module), and the
//   external `_small` (tiny; called from the previous module, so WPA inlines it
//   across files), `_moveable` (called from its own and the previous module),
//   `_hook` (called through main's function-pointer table) and `_run` (called
//   by main; prints a line with the module's string literal).
// - `main.c`: calls every `_run`, then every `_hook` through a table of
//   function pointers, prints a line per module and a final checksum line.
//   The program takes `argc` into its starting value, so GCC cannot fold it
//   to constants; it does nothing with its arguments otherwise.
// The module files never refer to main.c, so `m*.c` link alone into a shared
// library (`-fPIC -shared`) and main.c links against it.

import Foundation

/// The size and seed of a synthetic program.
public struct ProgramSpec: Sendable, Hashable {
    /// Number of module files `mNNN.c` (besides `main.c`); at least 1.
    public var files: Int
    /// Loop "worker" functions per module file; at least 1. Each file also has
    /// five fixed functions (`_helper`, `_small`, `_moveable`, `_hook`, `_run`).
    public var functionsPerFile: Int
    /// Everything in the program is a pure function of the spec.
    public var seed: UInt64

    public init(files: Int = 24, functionsPerFile: Int = 8, seed: UInt64 = 1) {
        self.files = files
        self.functionsPerFile = functionsPerFile
        self.seed = seed
    }
}

/// A generated (possibly edited) program: its sources and what it prints.
///
/// Edits (`SyntheticC.apply`) work on the model the program was rendered
/// from, not on `sources`: changes made to `sources` by hand are not seen by
/// later edits.
public struct GeneratedProgram: Sendable, Equatable {
    public var spec: ProgramSpec
    /// Relative path -> contents: "common.h", "m001.c", ..., "main.c".
    public var sources: [String: String]
    /// What the program prints on stdout when run with no arguments; it exits 0.
    public var expectedOutput: String

    var model: Model

    init(spec: ProgramSpec, model: Model) {
        self.spec = spec
        self.model = model
        self.sources = model.render()
        self.expectedOutput = model.evaluate()
    }

    /// An edit of `base` whose model differs only in what renders to `changed`.
    init(editing base: GeneratedProgram, model: Model, changed: [String]) {
        self.spec = base.spec
        self.model = model
        var sources = base.sources
        for path in changed { sources[path] = model.renderFile(path) }
        self.sources = sources
        self.expectedOutput = model.evaluate()
    }

    /// All `.c` paths, sorted: the module files `m*.c`, then `main.c`.
    public var cFiles: [String] { sources.keys.filter { $0.hasSuffix(".c") }.sorted() }

    /// The module files `m*.c`, sorted: the sources of the shared-library
    /// variant (they never refer to `main.c`).
    public var moduleFiles: [String] { model.modules.map(\.path) }

    /// The file holding `main`; link it against a library built from
    /// `moduleFiles` for the shared-library variant.
    public var mainFile: String { "main.c" }

    /// The headers (`common.h`).
    public var headerFiles: [String] { sources.keys.filter { $0.hasSuffix(".h") }.sorted() }

    /// The sources of the shared-library variant: everything but `main.c`.
    public var librarySources: [String: String] { sources.filter { $0.key != mainFile } }

    /// The module file for a file index, as the edits choose it
    /// (`index` modulo the number of module files; negative counts from 0).
    public func moduleFile(_ index: Int) -> String {
        model.modules[SyntheticC.moduleIndex(index, count: model.files)].path
    }

    /// Writes every source file into `directory` (created if needed).
    public func write(to directory: String) throws {
        try write(Array(sources.keys), to: directory)
    }

    /// Writes the given relative paths into `directory` (created if needed),
    /// in place (not via rename), so an unchanged file keeps its inode and
    /// only its modification time changes.
    public func write(_ paths: [String], to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        for path in paths.sorted() {
            guard let text = sources[path] else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            try Data(text.utf8).write(to: base.appendingPathComponent(path))
        }
    }

    public static func == (a: GeneratedProgram, b: GeneratedProgram) -> Bool {
        a.spec == b.spec && a.sources == b.sources && a.expectedOutput == b.expectedOutput
    }
}

/// The kinds of source edit an edit-compile cycle can make. Each applies to
/// one module file (`index` modulo the number of module files), except
/// `sharedHeader` (common.h) and `moveFunction` (two module files).
public enum Edit: String, CaseIterable, Sendable {
    /// Changes the text of the string literal printed by the file's `_run`;
    /// no function is added or removed. Odd generations keep the literal's
    /// length (letters rotated), even ones change it. Output changes.
    case stringLiteral
    /// Worker 0's loop gets `generation` more statements and iterations, so
    /// its size grows with the generation. Output changes.
    case bodySizeChange
    /// Adds a static loop function `mNNN_addedG` called from `_run`. Output changes.
    case newStaticFunction
    /// Changes `SYN_SCALE` in common.h, used by every file through `SYN_MIX`
    /// and `syn_mix`. Only common.h is reported changed. Output changes.
    case sharedHeader
    /// No content change: the file is reported changed (rewrite it to bump
    /// its mtime) with identical contents.
    case touch
    /// Odd generations add two external functions `mNNN_earlyG_a`/`_b` near
    /// the top of the file (called from `_run`); even generations remove them.
    /// Meant for an early file (pass a small index) to shift GCC's global
    /// symbol numbering for every later file. Output changes.
    case addRemoveSymbolsEarly
    /// Renames the file's static helper to `mNNN_helper_rG`. Output unchanged.
    case renameStatic
    /// Moves the external function `mNNN_moveable` of the file to module file
    /// `index + generation` (callers reach it through common.h's declaration,
    /// which does not change). Output unchanged.
    case moveFunction
}

/// The generator: `generate` a program from a spec, then `apply` edits.
public enum SyntheticC {
    /// The program for `spec`; the same spec always gives the same program.
    public static func generate(_ spec: ProgramSpec) -> GeneratedProgram {
        let model = Model.make(files: spec.files, functionsPerFile: spec.functionsPerFile, seed: spec.seed)
        return GeneratedProgram(spec: spec, model: model)
    }

    /// Applies an edit deterministically (the `generation` number makes
    /// successive edits differ, and generation 0 of an edit equals the
    /// unedited program for revert tests). Returns the edited program and the
    /// list of changed relative paths.
    ///
    /// Generations are absolute, not cumulative: each edit kind sets a knob of
    /// its file to `generation` (negative values count as 0), so applying
    /// generation 0 to an edited program reverts that edit, and generation 0
    /// of any edit on a freshly generated program returns it unchanged. The
    /// changed list names the files that edit writes, even when their contents
    /// end up equal (generation 0, `touch`): rewrite exactly those.
    public static func apply(_ edit: Edit, to program: GeneratedProgram, file index: Int, generation: Int)
        -> (GeneratedProgram, changed: [String])
    {
        var model = program.model
        let g = max(0, generation)
        let k = moduleIndex(index, count: model.files)
        let path = model.modules[k].path
        var changed: [String]
        switch edit {
        case .stringLiteral:
            model.modules[k].knobs.label = g
            changed = [path]
        case .bodySizeChange:
            model.modules[k].knobs.bodySize = g
            changed = [path]
        case .newStaticFunction:
            model.modules[k].knobs.newStatic = g
            changed = [path]
        case .sharedHeader:
            model.headerGen = g
            changed = ["common.h"]
        case .touch:
            changed = [path]
        case .addRemoveSymbolsEarly:
            model.modules[k].knobs.early = g
            changed = [path]
        case .renameStatic:
            model.modules[k].knobs.rename = g
            changed = [path]
        case .moveFunction:
            let from = model.moveableHome(k)
            model.modules[k].knobs.move = g
            let to = model.moveableHome(k)
            changed = Array(Set([model.modules[from].path, model.modules[to].path])).sorted()
        }
        // Knobs only change what renders into the files listed in `changed`
        // (the tests check this against a full render).
        return (GeneratedProgram(editing: program, model: model, changed: changed), changed: changed)
    }

    static func moduleIndex(_ index: Int, count: Int) -> Int {
        let r = index % count
        return r < 0 ? r + count : r
    }
}
