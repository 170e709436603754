// LTOGCC: function bodies and variable initializers (lto-streamer-in.cc:
// input_function, input_struct_function_base, input_cfg, input_ssa_names,
// input_eh_regions; gimple-streamer-in.cc: input_bb, input_gimple_stmt,
// input_phi; the writers output_function, output_cfg, output_bb and
// output_gimple_stmt). A body section has a CFG stream and a main stream sharing
// one tree cache and one location state; the CFG stream is read in the middle of
// the main one, where input_function reads it.

/// The control-flow graph as far as the main stream needs it.
struct ControlFlow {
    var blockCount = 0
    var exists: [Bool] = []
    /// Predecessors of each block, by source block index.
    var predecessors: [[Int]] = []
}

extension StreamReader {
    /// output_constructor: DECL_INITIAL of a variable.
    mutating func variableInitializer() throws(StreamReadError) {
        _ = try readTree()
        guard input.atEnd else { throw StreamReadError("initializer stream continues after its tree") }
    }

    /// input_function; `cfg` is the CFG stream, read where output_function wrote it.
    mutating func functionBody(cfg: LTOInput) throws(StreamReadError) {
        guard try tag() == Tag.function else { throw StreamReadError("function body does not start with LTO_function") }
        _ = try readTree()
        while try readTree() != .null {}
        for _ in 0..<(try count("debug arguments")) { _ = try readTree() }
        _ = try readTree()
        for _ in 0..<(try count("BLOCK leaves")) { _ = try readTree() }
        let hasBody = try u()
        guard hasBody <= 1 else { throw StreamReadError("body flag \(hasBody)") }
        guard hasBody == 1 else {
            guard cfg.atEnd else { throw StreamReadError("CFG stream of a function without body") }
            return try endOfMain()
        }
        try structFunction()
        var other = cfg
        swap(&input, &other)
        let flow = try controlFlow()
        guard input.atEnd else { throw StreamReadError("CFG stream continues after the loops") }
        swap(&input, &other)
        try ssaNames()
        try ehRegions()
        var t = try tag()
        while t != Tag.null {
            guard t == Tag.bb0 || t == Tag.bb1 else { throw StreamReadError("record tag \(t) where a basic block is expected") }
            try basicBlock(statements: t == Tag.bb1, flow)
            t = try tag()
        }
        try endOfMain()
    }

    private func endOfMain() throws(StreamReadError) {
        guard input.atEnd else { throw StreamReadError("function stream continues after its end") }
    }

    /// input_struct_function_base.
    private mutating func structFunction() throws(StreamReadError) {
        _ = try readTree()
        _ = try readTree()
        for _ in 0..<(try signedCount("local declarations")) { _ = try readTree() }
        _ = try u()
        try bitpackStart()
        try flags(16)
        try field(8)
        try field(8)
        try field(16)
        try location(.functionStart, block: false)
        try location(.functionEnd, block: false)
        if try field(1) == 1 { try field(32) }
        try bitpackEnd()
    }

    /// input_cfg.
    private mutating func controlFlow() throws(StreamReadError) -> ControlFlow {
        _ = try enumValue(3, "profile status")
        var flow = ControlFlow()
        let blocks = try u()
        guard blocks >= 2, blocks <= UInt64(input.bytes.count) else { throw StreamReadError("\(blocks) basic blocks") }
        flow.blockCount = Int(blocks)
        flow.exists = Array(repeating: false, count: flow.blockCount)
        flow.predecessors = Array(repeating: [], count: flow.blockCount)
        var index = try s()
        while index != -1 {
            let block = try blockIndex(index, flow)
            flow.exists[block] = true
            for _ in 0..<(try count("edges")) { try edge(from: block, &flow) }
            index = try s()
        }
        index = try s()
        while index != -1 {
            _ = try blockIndex(index, flow)
            index = try s()
        }
        try loops(flow)
        return flow
    }

    private func blockIndex(_ index: Int64, _ flow: ControlFlow) throws(StreamReadError) -> Int {
        guard index >= 0, index < Int64(flow.blockCount) else { throw StreamReadError("basic block \(index) of \(flow.blockCount)") }
        return Int(index)
    }

    private mutating func edge(from block: Int, _ flow: inout ControlFlow) throws(StreamReadError) {
        try bitpackStart()
        let dest = try varLenUnsigned()
        guard dest < UInt64(flow.blockCount) else { throw StreamReadError("edge to basic block \(dest)") }
        try varLenUnsigned()
        try location(.edge, block: true)
        flow.exists[Int(dest)] = true
        flow.predecessors[Int(dest)].append(block)
        _ = try u()
        _ = try enumValue(8, "probability quality")
    }

    /// The loop tree at the end of input_cfg.
    private mutating func loops(_ flow: ControlFlow) throws(StreamReadError) {
        let count = try u()
        guard count <= UInt64(input.end - input.position) + 1 else { throw StreamReadError("\(count) loops exceed the stream") }
        guard count > 0 else { return }
        for _ in 1..<count {
            let header = try s()
            if header == -1 { continue }
            _ = try blockIndex(header, flow)
            _ = try enumValue(2, "loop estimate state")
            for _ in 0..<3 {
                let present = try s()
                guard present == 0 || present == 1 else { throw StreamReadError("loop bound flag \(present)") }
                if present == 1 { try widestInt() }
            }
            for _ in 0..<6 { _ = try s() }
            _ = try readTree()
        }
    }

    /// streamer_read_widest_int.
    private mutating func widestInt() throws(StreamReadError) {
        _ = try u()
        let length = try u()
        guard length >= 1, length <= 9 else { throw StreamReadError("wide integer of \(length) elements") }
        for _ in 0..<length { _ = try s() }
    }

    /// input_ssa_names.
    private mutating func ssaNames() throws(StreamReadError) {
        let length = try u()
        guard length <= UInt64(input.bytes.count) else { throw StreamReadError("\(length) SSA names") }
        var defined = Array(repeating: false, count: Int(length))
        var previous: UInt64 = 0
        var i = try u()
        while i != 0 {
            guard i > previous, i < length else { throw StreamReadError("SSA name \(i) out of order or range") }
            guard try byte() <= 1 else { throw StreamReadError("SSA default-definition flag") }
            _ = try readTree()
            defined[Int(i)] = true
            previous = i
            i = try u()
        }
        ssaDefined = defined
    }

    /// input_eh_regions.
    private mutating func ehRegions() throws(StreamReadError) {
        let t = try tag()
        if t == Tag.null { return }
        guard t == Tag.ehTable else { throw StreamReadError("record tag \(t) where the EH table is expected") }
        _ = try s()
        for _ in 0..<(try signedCount("EH regions")) { try ehRegion() }
        for _ in 0..<(try signedCount("landing pads")) { try landingPad() }
        for _ in 0..<(try signedCount("EH type data")) { _ = try readTree() }
        for _ in 0..<(try signedCount("EH specification data")) { _ = try byte() }
        guard try tag() == Tag.null else { throw StreamReadError("EH table not terminated") }
    }

    private mutating func ehRegion() throws(StreamReadError) {
        let t = try tag()
        if t == Tag.null { return }
        guard t >= Tag.ertCleanup, t <= Tag.ertMustNotThrow else { throw StreamReadError("record tag \(t) where an EH region is expected") }
        for _ in 0..<4 { _ = try s() }
        switch t {
        case Tag.ertTry:
            var c = try tag()
            while c != Tag.null {
                guard c == Tag.ehCatch else { throw StreamReadError("record tag \(c) where an EH catch is expected") }
                for _ in 0..<3 { _ = try readTree() }
                c = try tag()
            }
        case Tag.ertAllowedExceptions:
            _ = try readTree()
            _ = try readTree()
            _ = try u()
        case Tag.ertMustNotThrow:
            _ = try readTree()
            try bitpackStart()
            try location(.mustNotThrow, block: false)
            try bitpackEnd()
        default: break
        }
        _ = try s()
    }

    private mutating func landingPad() throws(StreamReadError) {
        let t = try tag()
        if t == Tag.null { return }
        guard t == Tag.ehLandingPad else { throw StreamReadError("record tag \(t) where a landing pad is expected") }
        for _ in 0..<3 { _ = try s() }
        _ = try readTree()
    }

    /// input_bb.
    private mutating func basicBlock(statements: Bool, _ flow: ControlFlow) throws(StreamReadError) {
        let index = try u()
        guard index < UInt64(flow.blockCount), flow.exists[Int(index)] else { throw StreamReadError("body of unknown basic block \(index)") }
        _ = try s()
        _ = try enumValue(8, "profile quality")
        _ = try s()
        _ = try s()
        guard statements else { return }
        var t = try tag()
        while t != Tag.null {
            try statement(tag: t)
            let after = try tag()
            if after == Tag.ehRegion { _ = try s() } else if after != Tag.null { throw StreamReadError("record tag \(after) after a statement") }
            t = try tag()
        }
        t = try tag()
        while t != Tag.null {
            guard t == Tag.firstGimple + GimpleCode.phi else { throw StreamReadError("record tag \(t) where a PHI is expected") }
            try phi(block: Int(index), flow)
            t = try tag()
        }
    }

    /// input_phi: one argument per predecessor edge.
    private mutating func phi(block: Int, _ flow: ControlFlow) throws(StreamReadError) {
        try ssaIndex(u())
        let predecessors = flow.predecessors[block]
        for _ in predecessors {
            _ = try readTree()
            let source = try u()
            guard predecessors.contains(Int(truncatingIfNeeded: source)) else { throw StreamReadError("PHI argument from a block that is no predecessor") }
            try bitpackStart()
            try location(.phiArgument, block: true)
        }
    }

    /// input_gimple_stmt.
    private mutating func statement(tag t: Int) throws(StreamReadError) {
        let code = t - Tag.firstGimple
        guard code >= 0, code < Tag.gimpleCodes else { throw StreamReadError("record tag \(t) where a statement is expected") }
        try bitpackStart()
        let operands = try varLenUnsigned()
        guard operands <= UInt64(input.end - input.position) else { throw StreamReadError("statement with \(operands) operands") }
        try field(1)
        if code == GimpleCode.assign { try field(1) }
        try field(1)
        guard try take(1) == 0 else { throw StreamReadError("value-profile histograms are not supported") }
        emit(0)
        let subcode = try varLenUnsigned()
        try location(.statement(code: code), block: true)
        try statementOperands(code: code, operands: Int(operands), subcode: subcode)
    }

    private mutating func statementOperands(code: Int, operands: Int, subcode: UInt64) throws(StreamReadError) {
        switch code {
        case GimpleCode.resx, GimpleCode.ehDispatch: _ = try s()
        case GimpleCode.ehMustNotThrow: _ = try readTree()
        case GimpleCode.asm, GimpleCode.assign, GimpleCode.call, GimpleCode.returnCode, GimpleCode.switchCode,
             GimpleCode.label, GimpleCode.cond, GimpleCode.goto, GimpleCode.debug:
            if code == GimpleCode.asm { try asmHeader(operands: operands) }
            for _ in 0..<operands { _ = try readTree() }
            if code == GimpleCode.call {
                if subcode & GimpleCode.callInternalFlag != 0 {
                    noteInternalFunction(try enumValue(InternalFunction.count, "internal function"))
                } else {
                    _ = try readTree()
                }
            }
        case GimpleCode.nop, GimpleCode.predict: break
        case GimpleCode.transaction: for _ in 0..<3 { _ = try readTree() }
        default: throw StreamReadError("\(GimpleCode.names[code]) is never streamed")
        }
    }

    /// The counts and template of a GIMPLE_ASM; the counts add up to its operands.
    private mutating func asmHeader(operands: Int) throws(StreamReadError) {
        var total: UInt64 = 0
        for _ in 0..<4 {
            let (sum, overflow) = total.addingReportingOverflow(try u())
            guard !overflow else { throw StreamReadError("asm operand counts overflow") }
            total = sum
        }
        guard total == UInt64(operands) else { throw StreamReadError("asm operand counts do not add up") }
        guard try streamString(nulTerminated: true) != nil else { throw StreamReadError("asm without template") }
    }
}
