// SyntheticC — the program model: what a generated program is made of, before
// it is rendered to C (Render.swift) or evaluated (Evaluate.swift).
//
// Edits never patch C text: they set a per-module "knob" to the edit's
// generation, and the program is rendered and evaluated again from the model.
// Everything a knob adds (new words, statements, functions) is derived from
// (seed, module, purpose, generation), so a knob at 0 renders exactly the
// unedited program.

/// One statement of a worker's loop body. `acc` and `i` are the loop's
/// accumulator and counter; all arithmetic is on 32-bit `unsigned`.
struct Stmt: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case mulAdd      // acc = acc * a + (i ^ b);
        case xorShift    // acc ^= acc >> a;
        case table       // acc += PFX_table[(acc ^ i) & 15u];
        case localTable  // acc += PFX_local[(acc + i) & 7u];
        case rotate      // acc = (acc << a) | (acc >> (32 - a));
        case macro       // acc = SYN_MIX(acc);
        case inlineMix   // acc ^= syn_mix(acc + i);
    }
    var kind: Kind
    var a: UInt32 = 0
    var b: UInt32 = 0

    static func random(_ rng: inout SplitMix64) -> Stmt {
        switch rng.int(0...9) {
        case 0, 1, 2: return Stmt(kind: .mulAdd, a: rng.oddU32(), b: rng.u32() & 0xFFFF)
        case 3, 4: return Stmt(kind: .xorShift, a: UInt32(rng.int(5...19)))
        case 5: return Stmt(kind: .table)
        case 6: return Stmt(kind: .localTable)
        case 7: return Stmt(kind: .rotate, a: UInt32(rng.int(1...31)))
        case 8: return Stmt(kind: .macro)
        default: return Stmt(kind: .inlineMix)
        }
    }
}

/// A function `unsigned NAME(unsigned x)` made of one counted loop.
struct Worker: Sendable, Equatable {
    var isStatic: Bool
    var initXor: UInt32
    var iterations: UInt32
    var stmts: [Stmt]
    /// Worker 0 calls the module's static helper after its loop.
    var callsHelper: Bool

    static func random(_ rng: inout SplitMix64, isStatic: Bool, callsHelper: Bool,
                       stmtRange: ClosedRange<Int> = 2...7) -> Worker {
        let initXor = rng.u32()
        let iterations = UInt32(rng.int(8...120))
        let count = rng.int(stmtRange)
        var stmts: [Stmt] = []
        for _ in 0..<count { stmts.append(Stmt.random(&rng)) }
        return Worker(isStatic: isStatic, initXor: initXor, iterations: iterations,
                      stmts: stmts, callsHelper: callsHelper)
    }
}

/// The edit knobs of one module; 0 everywhere is the unedited program.
struct Knobs: Sendable, Equatable {
    var label = 0
    var bodySize = 0
    var newStatic = 0
    var early = 0
    var rename = 0
    var move = 0
}

/// One module file `mNNN.c`.
struct Module: Sendable, Equatable {
    var index: Int          // 0-based
    var name: String        // "m001"
    var stateInit: UInt32
    var statsInit: UInt32
    var table: [UInt32]     // 16 entries, external const
    var local: [UInt32]     // 8 entries, static const
    var helperMul: UInt32
    var smallXor: UInt32
    var moveAdd: UInt32
    var runXor: UInt32
    var hookMul: UInt32
    var labelWords: [String]
    var workers: [Worker]
    var knobs = Knobs()

    var path: String { name + ".c" }
}

/// The whole program.
struct Model: Sendable, Equatable {
    var files: Int
    var functionsPerFile: Int
    var seed: UInt64
    var mainSeed: UInt32
    var scaleBase: UInt32
    var bias: UInt32
    var headerGen = 0
    var modules: [Module]

    /// Value of `SYN_SCALE` (odd, changed by the `sharedHeader` edit).
    var scale: UInt32 { scaleBase &+ 2 &* UInt32(truncatingIfNeeded: headerGen) }
}

/// Purpose tags for derived PRNG streams.
enum Tag: UInt64 {
    case program = 1, module, label, bodySize, newStatic, early
}

let labelVocabulary = [
    "amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "harbor",
    "iris", "juniper", "kelp", "lagoon", "meadow", "nectar", "onyx", "prairie",
    "quartz", "river", "summit", "tundra", "umber", "valley", "willow", "xenon",
    "yarrow", "zephyr", "copper", "marble", "saffron", "thistle", "cobalt", "linen",
]

extension Model {
    static func make(files: Int, functionsPerFile: Int, seed: UInt64) -> Model {
        let n = max(1, files)
        let f = max(1, functionsPerFile)
        var rng = SplitMix64(seed: seed, path: [Tag.program.rawValue])
        let mainSeed = rng.u32()
        let scaleBase = UInt32(rng.int(3...61)) | 1
        let bias = rng.u32() & 0xFFFF
        let width = max(3, String(n).count)
        var modules: [Module] = []
        for k in 0..<n {
            var r = SplitMix64(seed: seed, path: [Tag.module.rawValue, UInt64(k)])
            var number = String(k + 1)
            while number.count < width { number = "0" + number }
            let name = "m" + number
            let stateInit = r.u32()
            let statsInit = r.u32()
            var table: [UInt32] = []
            for _ in 0..<16 { table.append(r.u32()) }
            var local: [UInt32] = []
            for _ in 0..<8 { local.append(r.u32()) }
            let helperMul = r.oddU32()
            let smallXor = r.u32()
            let moveAdd = r.u32()
            let runXor = r.u32()
            let hookMul = r.oddU32()
            var words: [String] = []
            for _ in 0..<r.int(2...4) { words.append(r.pick(labelVocabulary)) }
            var workers: [Worker] = []
            for j in 0..<f {
                // Every third worker (j = 2, 5, ...) is external and called
                // from the previous module too; the rest are static.
                workers.append(Worker.random(&r, isStatic: j % 3 != 2, callsHelper: j == 0))
            }
            modules.append(Module(
                index: k, name: name, stateInit: stateInit, statsInit: statsInit,
                table: table, local: local, helperMul: helperMul, smallXor: smallXor,
                moveAdd: moveAdd, runXor: runXor, hookMul: hookMul, labelWords: words,
                workers: workers))
        }
        return Model(files: n, functionsPerFile: f, seed: seed, mainSeed: mainSeed,
                     scaleBase: scaleBase, bias: bias, modules: modules)
    }

    // MARK: Derived, knob-dependent parts

    /// The module's printed label for its `label` knob. Odd generations keep
    /// the length (letters rotated), even ones pick new words (length changes).
    func label(_ m: Module) -> String {
        let g = m.knobs.label
        let base = m.labelWords.joined(separator: " ")
        if g == 0 { return base }
        if g % 2 == 1 {
            let shift = UInt8(((g - 1) / 2) % 25 + 1)
            let a = UInt8(ascii: "a")
            let bytes = base.utf8.map { c -> UInt8 in
                (c >= a && c <= UInt8(ascii: "z")) ? a + (c - a + shift) % 26 : c
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var r = SplitMix64(seed: seed, path: [Tag.label.rawValue, UInt64(m.index), UInt64(g)])
        var words: [String] = []
        for _ in 0..<r.int(1...5) { words.append(r.pick(labelVocabulary)) }
        return words.joined(separator: " ") + " rev " + String(g)
    }

    /// Worker `j` of module `m`, with the `bodySize` knob applied (worker 0's
    /// loop gets `g` more statements and `g` more iterations).
    func worker(_ m: Module, _ j: Int) -> Worker {
        var w = m.workers[j]
        let g = m.knobs.bodySize
        if j == 0 && g > 0 {
            var r = SplitMix64(seed: seed, path: [Tag.bodySize.rawValue, UInt64(m.index), UInt64(g)])
            for _ in 0..<g { w.stmts.append(Stmt.random(&r)) }
            w.iterations &+= UInt32(truncatingIfNeeded: g)
        }
        return w
    }

    /// The static function the `newStatic` knob adds, if any.
    func addedStatic(_ m: Module) -> Worker? {
        let g = m.knobs.newStatic
        guard g > 0 else { return nil }
        var r = SplitMix64(seed: seed, path: [Tag.newStatic.rawValue, UInt64(m.index), UInt64(g)])
        return Worker.random(&r, isStatic: true, callsHelper: false, stmtRange: 1...4)
    }

    /// Constants of the two external functions the `early` knob adds
    /// (present for odd generations only).
    func earlyConstants(_ m: Module) -> (UInt32, UInt32, UInt32)? {
        let g = m.knobs.early
        guard g % 2 == 1 else { return nil }
        var r = SplitMix64(seed: seed, path: [Tag.early.rawValue, UInt64(m.index), UInt64(g)])
        return (r.oddU32(), r.u32(), UInt32(r.int(3...29)))
    }

    func helperName(_ m: Module) -> String {
        m.knobs.rename == 0 ? "\(m.name)_helper" : "\(m.name)_helper_r\(m.knobs.rename)"
    }

    func addedName(_ m: Module) -> String { "\(m.name)_added\(m.knobs.newStatic)" }

    func earlyNames(_ m: Module) -> (String, String) {
        ("\(m.name)_early\(m.knobs.early)_a", "\(m.name)_early\(m.knobs.early)_b")
    }

    /// Index of the module whose file holds module `k`'s `_moveable` function.
    func moveableHome(_ k: Int) -> Int { (k + modules[k].knobs.move) % files }

    func next(_ k: Int) -> Int { (k + 1) % files }
}
