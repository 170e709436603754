// LTOGCC: tree records (lto-streamer-in.cc: lto_input_tree, lto_input_tree_1,
// lto_input_scc, lto_read_tree_1; tree-streamer-in.cc: streamer_alloc_tree,
// streamer_read_tree_bitfields, streamer_read_tree_body; mirrored from the writers
// in lto-streamer-out.cc and tree-streamer-out.cc). A tree is a tag (7 + code), a
// header with what it takes to allocate it, one bit-pack of its flags (with its
// location), references to the trees it points to, and for declarations the
// initial value and the reference to early debug info.

/// What a tree's header says about its variable parts.
struct TreeHeader {
    var code = 0
    /// Elements of a TREE_VEC, VECTOR_CST, TREE_BINFO or CALL_EXPR arguments.
    var length = 0
    var intUnits = 0
    /// The string entry of a STRING_CST or IDENTIFIER_NODE.
    var stringEntry = -1
}

/// Flags of a tree's bit-pack that decide which references follow.
struct TreeFlags {
    var hasValueExpr = false
    var hasDebugExpr = false
    var constructorElements = 0
}

extension StreamReader {
    /// lto_input_tree (stream_read_tree): bundles of trees, then one tree or reference.
    mutating func readTree() throws(StreamReadError) -> TreeValue {
        var t = try tag()
        while t == Tag.trees {
            try scc(shared: false)
            t = try tag()
        }
        return try tree(tag: t)
    }

    /// lto_input_tree_1.
    mutating func tree(tag t: Int) throws(StreamReadError) -> TreeValue {
        switch t {
        case Tag.null: return .null
        case Tag.globalStreamReference:
            try globalIndex(u())
            return .global
        case Tag.ssaNameReference:
            try ssaIndex(u())
            return .ssaName
        case Tag.pickleReference:
            let index = try u()
            guard index < UInt64(nodeCode.count) else { throw StreamReadError("reference to tree \(index) of \(nodeCode.count)") }
            return .node(Int(index))
        case Tag.integerCst: return try sharedIntegerConstant()
        case Tag.treeSCC, Tag.trees: throw StreamReadError("tree bundle where a single tree is expected")
        default:
            let header = try treeHeader(tag: t)
            let index = appendNode(header.code)
            guard depth < Self.maximumDepth else { throw StreamReadError("trees nested more than \(Self.maximumDepth) deep") }
            depth += 1
            defer { depth -= 1 }
            try treeBody(header, index: index)
            return .node(index)
        }
    }

    mutating func globalIndex(_ index: UInt64) throws(StreamReadError) {
        guard index < UInt64(globalLimit) else { throw StreamReadError("declaration reference \(index) of \(globalLimit)") }
    }

    mutating func ssaIndex(_ index: UInt64) throws(StreamReadError) {
        guard let defined = ssaDefined, index < UInt64(defined.count), defined[Int(index)] else {
            throw StreamReadError("reference to undefined SSA name \(index)")
        }
    }

    /// LTO_integer_cst: the type, then the wide-int elements.
    private mutating func sharedIntegerConstant() throws(StreamReadError) -> TreeValue {
        guard try treeReference() != .null else { throw StreamReadError("integer constant without a type") }
        let length = try u()
        guard length >= 1, length <= 9 else { throw StreamReadError("integer constant of \(length) elements") }
        for _ in 0..<length { _ = try s() }
        return .node(appendNode(TreeCode.integerCst))
    }

    mutating func appendNode(_ code: Int) -> Int {
        nodeCode.append(UInt16(code))
        nodeString.append(-1)
        nodeAssemblerName.append(-1)
        return nodeCode.count - 1
    }

    /// lto_input_scc: LTO_tree_scc (with its hash) or LTO_trees; headers first, then bodies.
    mutating func scc(shared: Bool) throws(StreamReadError) {
        var size = try u()
        if shared {
            if size & 1 == 1 { _ = try u() }
            size /= 2
            _ = try u()
        }
        guard size >= 1, size <= UInt64(input.end - input.position) else { throw StreamReadError("tree bundle of \(size) trees") }
        if size == 1 {
            _ = try tree(tag: tag())
            return
        }
        var headers: [TreeHeader] = []
        headers.reserveCapacity(Int(size))
        let first = nodeCode.count
        for _ in 0..<size {
            let t = try tag()
            guard t >= Tag.firstTree else { throw StreamReadError("tree bundle member with tag \(t)") }
            let header = try treeHeader(tag: t)
            headers.append(header)
            _ = appendNode(header.code)
        }
        for (i, header) in headers.enumerated() { try treeBody(header, index: first + i) }
    }

    /// streamer_alloc_tree: the tag's code and the header it implies.
    mutating func treeHeader(tag t: Int) throws(StreamReadError) -> TreeHeader {
        let code = t - Tag.firstTree
        guard code >= 0, code < TreeCode.baseCount else { throw StreamReadError("record tag \(t) where a tree is expected") }
        try checkStreamable(code)
        var header = TreeHeader(code: code)
        let structures = TreeCode.structures[code]
        if structures.contains(.string) || structures.contains(.identifier) {
            header.stringEntry = try streamString(nulTerminated: false) ?? -1
            guard header.stringEntry >= 0 else { throw StreamReadError("\(TreeCode.names[code]) without text") }
        } else if structures.contains(.vec) {
            let length = try s()
            guard length >= 0, length <= Int64(input.end - input.position) else { throw StreamReadError("TREE_VEC of \(length)") }
            header.length = Int(length)
        } else if structures.contains(.vector) {
            try bitpackStart()
            let log2 = try field(8), perPattern = try field(8)
            try bitpackEnd()
            guard log2 < 16, perPattern >= 1, perPattern <= 3 else { throw StreamReadError("VECTOR_CST encoding \(log2)/\(perPattern)") }
            header.length = (1 << Int(log2)) * Int(perPattern)
        } else if structures.contains(.binfo) || code == TreeCode.callExpr {
            header.length = try count("tree length")
        } else if structures.contains(.intCst) {
            let units = try u(), extended = try u()
            guard units >= 1, extended >= 1, units <= 9, extended <= 9 else { throw StreamReadError("INTEGER_CST of \(units)/\(extended) units") }
            header.intUnits = Int(extended)
        }
        return header
    }

    /// lto_is_streamable: codes the writer refuses never appear.
    private func checkStreamable(_ code: Int) throws(StreamReadError) {
        switch code {
        case TreeCode.ssaName, TreeCode.langType, TreeCode.modifyExpr, TreeCode.initExpr, TreeCode.targetExpr,
             TreeCode.bindExpr, TreeCode.withCleanupExpr, TreeCode.statementList:
            throw StreamReadError("\(TreeCode.names[code]) is never streamed as a tree")
        case TreeCode.ompClause:
            throw StreamReadError("OMP_CLAUSE trees are not supported")
        case TreeCode.caseLabelExpr, TreeCode.declExpr: return
        default:
            if TreeCode.classes[code] == .statement { throw StreamReadError("\(TreeCode.names[code]) is never streamed as a tree") }
        }
    }

    /// lto_read_tree_1: bit-pack, references, then the LTO-specific parts of declarations.
    mutating func treeBody(_ header: TreeHeader, index: Int) throws(StreamReadError) {
        do throws(StreamReadError) {
            try treeRecordBody(header, index: index)
        } catch {
            throw error.reason.hasPrefix("in ") ? error : StreamReadError("in \(TreeCode.names[header.code]): \(error.reason)")
        }
    }

    private mutating func treeRecordBody(_ header: TreeHeader, index: Int) throws(StreamReadError) {
        let code = header.code
        let flags = try treeBitfields(header)
        try treeReferences(header, flags: flags, index: index)
        let isDeclaration = TreeCode.classes[code] == .declaration
        if isDeclaration, code != TreeCode.functionDecl, code != TreeCode.translationUnitDecl {
            _ = try tree(tag: tag())
        }
        if (isDeclaration && code != TreeCode.fieldDecl && code != TreeCode.debugExprDecl && code != TreeCode.typeDecl)
            || code == TreeCode.block {
            if try streamString(nulTerminated: true) != nil { _ = try u() }
        }
        if TreeCode.structures[code].contains(.identifier) { nodeString[index] = Int32(header.stringEntry) }
    }

    /// stream_read_tree_ref: 0 null, n > 0 the tree cache entry n - 1, n < 0 a declaration
    /// stream entry or an SSA name.
    mutating func treeReference() throws(StreamReadError) -> TreeValue {
        let v = try s()
        if v == 0 { return .null }
        if v > 0 {
            guard v - 1 < Int64(nodeCode.count) else { throw StreamReadError("reference to tree \(v - 1) of \(nodeCode.count)") }
            return .node(Int(v - 1))
        }
        let ix = -(v + 1)
        if ix & 1 == 0 {
            try globalIndex(UInt64(ix / 2))
            return .global
        }
        try ssaIndex(UInt64(ix / 2))
        return .ssaName
    }

    mutating func references(_ n: Int) throws(StreamReadError) {
        for _ in 0..<n { _ = try treeReference() }
    }

    /// streamer_write_chain: references up to a null one.
    mutating func referenceChain() throws(StreamReadError) -> Int {
        var n = 0
        while try treeReference() != .null { n += 1 }
        return n
    }
}
