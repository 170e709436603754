// SyntheticC — evaluating the model: computes, in Swift, exactly what the
// rendered C program prints when run with no arguments (argc == 1). Every
// function here mirrors one C construct of Render.swift; keep them in step.

extension Model {
    func synMix(_ v: UInt32) -> UInt32 {
        var x = v
        x ^= x >> 16
        x = x &* 0x7FEB_352D
        x ^= x >> 15
        x = x &* (0x846C_A68B &+ scale)
        x ^= x >> 16
        return x
    }

    func synMacro(_ x: UInt32) -> UInt32 { ((x ^ (x >> 13)) &* scale) &+ bias }

    func evalStmt(_ st: Stmt, _ acc: UInt32, _ i: UInt32, _ m: Module) -> UInt32 {
        switch st.kind {
        case .mulAdd: return acc &* st.a &+ (i ^ st.b)
        case .xorShift: return acc ^ (acc >> st.a)
        case .table: return acc &+ m.table[Int((acc ^ i) & 15)]
        case .localTable: return acc &+ m.local[Int((acc &+ i) & 7)]
        case .rotate: return (acc << st.a) | (acc >> (32 - st.a))
        case .macro: return synMacro(acc)
        case .inlineMix: return acc ^ synMix(acc &+ i)
        }
    }

    func evalHelper(_ m: Module, _ x0: UInt32) -> UInt32 {
        var x = x0
        for i in 0..<8 { x = x &* m.helperMul &+ m.local[i & 7] }
        return x
    }

    func evalWorker(_ w: Worker, _ m: Module, _ x: UInt32) -> UInt32 {
        var acc = x ^ w.initXor
        var i: UInt32 = 0
        while i < w.iterations {
            for st in w.stmts { acc = evalStmt(st, acc, i, m) }
            i &+= 1
        }
        if w.callsHelper { acc = evalHelper(m, acc) }
        return acc
    }

    func evalSmall(_ m: Module, _ x: UInt32) -> UInt32 {
        synMacro(x ^ m.smallXor) &+ m.table[Int(x & 15)]
    }

    func evalMoveable(_ m: Module, _ x: UInt32) -> UInt32 {
        synMix(x &+ m.moveAdd) ^ m.table[Int((x >> 4) & 15)]
    }

    /// Runs the program; returns its standard output.
    func evaluate(argc: UInt32 = 1) -> String {
        var state = modules.map(\.stateInit)
        var calls = [UInt32](repeating: 0, count: files)
        var value = modules.map(\.statsInit)
        var out = ""

        var sum = mainSeed ^ argc
        for k in 0..<files {
            let m = modules[k]
            let nx = modules[next(k)]
            var acc = synMix(sum ^ m.runXor)
            if let (mul, add, shift) = earlyConstants(m) {
                let a = acc &* mul &+ add
                let b = (acc >> shift) ^ synMacro(acc)
                acc = acc &+ (a ^ b)
            }
            for j in m.workers.indices { acc = evalWorker(worker(m, j), m, acc) }
            if let added = addedStatic(m) { acc = evalWorker(added, m, acc) }
            acc = acc &+ evalSmall(nx, acc)
            for j in nx.workers.indices where !nx.workers[j].isStatic {
                acc = evalWorker(worker(nx, j), nx, acc ^ UInt32(k))
            }
            acc ^= evalMoveable(m, acc)
            acc = acc &+ evalMoveable(nx, acc >> 1)
            state[k] = state[k] &* 5 &+ acc
            calls[k] &+= 1
            value[k] = acc ^ state[k]
            out += "\(m.name): \(label(m)) [\(hex8(acc))]\n"
            sum = acc &+ state[k]
        }
        for k in 0..<files {
            let m = modules[k]
            let x = sum &+ UInt32(k)
            sum = (x ^ state[k]) &+ calls[k] &* m.hookMul &+ m.table[Int(x & 15)]
            out += "\(m.name) calls=\(calls[k]) value=\(hex8(value[k]))\n"
        }
        out += "checksum \(hex8(sum))\n"
        return out
    }
}

/// `printf("%08x", v)`.
func hex8(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
