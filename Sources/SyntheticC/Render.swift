// SyntheticC — rendering the model to C sources (common.h, mNNN.c, main.c).
//
// The C is plain C99 on 32-bit `unsigned` arithmetic only (no signed
// overflow, no undefined behaviour), warning-free under `gcc -O2 -Wall`, and
// its semantics are mirrored exactly by Evaluate.swift.

func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s + "u"
}

extension Model {
    func render() -> [String: String] {
        var out: [String: String] = [:]
        out["common.h"] = renderHeader()
        for m in modules { out[m.path] = renderModule(m.index) }
        out["main.c"] = renderMain()
        return out
    }

    /// One file of `render()`, by relative path.
    func renderFile(_ path: String) -> String? {
        if path == "common.h" { return renderHeader() }
        if path == "main.c" { return renderMain() }
        guard let k = modules.firstIndex(where: { $0.path == path }) else { return nil }
        return renderModule(k)
    }

    func renderHeader() -> String {
        var s = """
        /* common.h: shared declarations of a synthetic program (SyntheticC, seed \(seed),
         * \(files) modules, \(functionsPerFile) workers per module). Included by every .c file. */
        #ifndef SYN_COMMON_H
        #define SYN_COMMON_H

        #include <stdio.h>

        #define SYN_MODULES \(files)u

        /* The sharedHeader edit changes SYN_SCALE; every module uses it. */
        #define SYN_SCALE \(scale)u
        #define SYN_BIAS \(hex(bias))
        #define SYN_MIX(x) ((((x) ^ ((x) >> 13)) * SYN_SCALE) + SYN_BIAS)

        /* Per-module statistics, one external instance per module. */
        struct syn_stats {
            const char *name;
            unsigned calls;
            unsigned value;
        };

        typedef unsigned syn_fn(unsigned);

        static inline unsigned syn_mix(unsigned x)
        {
            x ^= x >> 16;
            x *= 0x7feb352du;
            x ^= x >> 15;
            x *= 0x846ca68bu + SYN_SCALE;
            x ^= x >> 16;
            return x;
        }


        """
        for m in modules {
            let p = m.name
            s += "/* \(p).c */\n"
            s += "extern struct syn_stats \(p)_stats;\n"
            s += "extern const unsigned \(p)_table[16];\n"
            for (j, w) in m.workers.enumerated() where !w.isStatic {
                s += "unsigned \(p)_w\(j)(unsigned x);\n"
            }
            s += "unsigned \(p)_small(unsigned x);\n"
            s += "unsigned \(p)_moveable(unsigned x);\n"
            s += "unsigned \(p)_hook(unsigned x);\n"
            s += "unsigned \(p)_run(unsigned seed);\n"
        }
        s += "\n#endif /* SYN_COMMON_H */\n"
        return s
    }

    func renderStmt(_ st: Stmt, _ p: String) -> String {
        switch st.kind {
        case .mulAdd: return "acc = acc * \(hex(st.a)) + (i ^ \(hex(st.b)));"
        case .xorShift: return "acc ^= acc >> \(st.a)u;"
        case .table: return "acc += \(p)_table[(acc ^ i) & 15u];"
        case .localTable: return "acc += \(p)_local[(acc + i) & 7u];"
        case .rotate: return "acc = (acc << \(st.a)u) | (acc >> \(32 - st.a)u);"
        case .macro: return "acc = SYN_MIX(acc);"
        case .inlineMix: return "acc ^= syn_mix(acc + i);"
        }
    }

    func renderWorker(_ w: Worker, name: String, module m: Module) -> String {
        let p = m.name
        var s = w.isStatic ? "static unsigned \(name)(unsigned x)\n{\n" : "unsigned \(name)(unsigned x)\n{\n"
        s += "    unsigned acc = x ^ \(hex(w.initXor));\n"
        s += "    unsigned i;\n"
        s += "    for (i = 0; i < \(w.iterations)u; i++) {\n"
        for st in w.stmts { s += "        " + renderStmt(st, p) + "\n" }
        s += "    }\n"
        if w.callsHelper { s += "    acc = \(helperName(m))(acc);\n" }
        s += "    return acc;\n}\n\n"
        return s
    }

    func renderMoveable(_ k: Int) -> String {
        let m = modules[k]
        let p = m.name
        return """
        unsigned \(p)_moveable(unsigned x)
        {
            return syn_mix(x + \(hex(m.moveAdd))) ^ \(p)_table[(x >> 4) & 15u];
        }


        """
    }

    func renderModule(_ k: Int) -> String {
        let m = modules[k]
        let p = m.name
        let nx = modules[next(k)]
        var s = "/* \(p).c: synthetic module \(k + 1) of \(files) (SyntheticC, seed \(seed)). */\n"
        s += "#include \"common.h\"\n\n"
        s += "static unsigned \(p)_state = \(hex(m.stateInit));\n"
        s += "struct syn_stats \(p)_stats = { \"\(p)\", 0u, \(hex(m.statsInit)) };\n"
        s += "const unsigned \(p)_table[16] = {\n"
        for row in 0..<4 {
            s += "    " + (0..<4).map { hex(m.table[row * 4 + $0]) }.joined(separator: ", ")
            s += row == 3 ? "\n" : ",\n"
        }
        s += "};\n"
        s += "static const unsigned \(p)_local[8] = {\n"
        for row in 0..<2 {
            s += "    " + (0..<4).map { hex(m.local[row * 4 + $0]) }.joined(separator: ", ")
            s += row == 1 ? "\n" : ",\n"
        }
        s += "};\n\n"

        if let (mul, add, shift) = earlyConstants(m) {
            let (a, b) = earlyNames(m)
            s += "unsigned \(a)(unsigned x)\n{\n    return x * \(hex(mul)) + \(hex(add));\n}\n\n"
            s += "unsigned \(b)(unsigned x)\n{\n    return (x >> \(shift)u) ^ SYN_MIX(x);\n}\n\n"
        }

        s += "static unsigned \(helperName(m))(unsigned x)\n{\n"
        s += "    unsigned i;\n"
        s += "    for (i = 0; i < 8u; i++)\n"
        s += "        x = x * \(hex(m.helperMul)) + \(p)_local[i & 7u];\n"
        s += "    return x;\n}\n\n"

        for j in m.workers.indices {
            s += renderWorker(worker(m, j), name: "\(p)_w\(j)", module: m)
        }
        if let added = addedStatic(m) {
            s += renderWorker(added, name: addedName(m), module: m)
        }

        s += """
        unsigned \(p)_small(unsigned x)
        {
            return SYN_MIX(x ^ \(hex(m.smallXor))) + \(p)_table[x & 15u];
        }


        """
        for k2 in modules.indices where moveableHome(k2) == k && k2 == k {
            s += renderMoveable(k2)
        }

        s += """
        unsigned \(p)_hook(unsigned x)
        {
            return (x ^ \(p)_state) + \(p)_stats.calls * \(hex(m.hookMul)) + \(p)_table[x & 15u];
        }

        unsigned \(p)_run(unsigned seed)
        {
            unsigned acc = syn_mix(seed ^ \(hex(m.runXor)));

        """
        if earlyConstants(m) != nil {
            let (a, b) = earlyNames(m)
            s += "    acc += \(a)(acc) ^ \(b)(acc);\n"
        }
        for j in m.workers.indices { s += "    acc = \(p)_w\(j)(acc);\n" }
        if addedStatic(m) != nil { s += "    acc = \(addedName(m))(acc);\n" }
        s += "    acc += \(nx.name)_small(acc);\n"
        for (j, w) in nx.workers.enumerated() where !w.isStatic {
            s += "    acc = \(nx.name)_w\(j)(acc ^ \(k)u);\n"
        }
        s += "    acc ^= \(p)_moveable(acc);\n"
        s += "    acc += \(nx.name)_moveable(acc >> 1);\n"
        s += "    \(p)_state = \(p)_state * 5u + acc;\n"
        s += "    \(p)_stats.calls += 1u;\n"
        s += "    \(p)_stats.value = acc ^ \(p)_state;\n"
        s += "    printf(\"%s: %s [%08x]\\n\", \(p)_stats.name, \"\(label(m))\", acc);\n"
        s += "    return acc + \(p)_state;\n"
        s += "}\n"

        // Functions moved here from other modules by the moveFunction edit.
        let guests = modules.indices.filter { moveableHome($0) == k && $0 != k }
        if !guests.isEmpty {
            s += "\n/* moved here from other modules */\n"
            for k2 in guests { s += renderMoveable(k2) }
            s.removeLast()  // keep exactly one trailing newline
        }
        return s
    }

    func renderMain() -> String {
        var s = """
        /* main.c: entry point of a synthetic program (SyntheticC, seed \(seed)).
         * Calls into every module, then through a table of function pointers. */
        #include "common.h"

        static syn_fn *const syn_hooks[SYN_MODULES] = {

        """
        s += modules.map { "    \($0.name)_hook" }.joined(separator: ",\n") + "\n};\n\n"
        s += "static struct syn_stats *const syn_all_stats[SYN_MODULES] = {\n"
        s += modules.map { "    &\($0.name)_stats" }.joined(separator: ",\n") + "\n};\n\n"
        s += """
        int main(int argc, char **argv)
        {
            unsigned sum = \(hex(mainSeed)) ^ (unsigned)argc;
            unsigned i;
            (void)argv;

        """
        for m in modules { s += "    sum = \(m.name)_run(sum);\n" }
        s += """
            for (i = 0; i < SYN_MODULES; i++) {
                sum = syn_hooks[i](sum + i);
                printf("%s calls=%u value=%08x\\n", syn_all_stats[i]->name,
                       syn_all_stats[i]->calls, syn_all_stats[i]->value);
            }
            printf("checksum %08x\\n", sum);
            return 0;
        }

        """
        return s
    }
}
