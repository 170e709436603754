// LTOGCC: decoding one streamed location (lto_location_cache::input_location_and_block,
// written by lto_output_location_1) and emitting it as the policy says. The reader
// mirrors the writer's delta state per section, and accepts only what the writer
// produces: the first real location of a section changes file, line and column; a
// "line changed" or "column changed" bit comes with a value different from the
// previous one; the working directory is streamed at most once per section and
// only before a relative file name.
import LTOHash

extension StreamReader {
    /// Reads a location inside the current bit-pack; with `block`, also the "block changed"
    /// bit, the end of the bit-pack and the BLOCK tree when it changed.
    mutating func location(_ record: LocationRecord, block: Bool) throws(StreamReadError) {
        let firstWord = bits.used == 64 ? input.position : bits.wordStart
        let kind = try take(2)
        if kind < 2 {
            emit(kind)
        } else {
            try knownLocation(record, fileChanged: kind == 3)
        }
        locationBytes?.append(firstWord..<input.position)
        if block { try locationBlock() }
    }

    private mutating func knownLocation(_ record: LocationRecord, fileChanged: Bool) throws(StreamReadError) {
        let lineChanged = try take(1) == 1
        let columnChanged = try take(1) == 1
        let first = !location.seenKnown
        if first {
            guard fileChanged, lineChanged, columnChanged else { throw StreamReadError("first location of the section is relative to nothing") }
            location.seenKnown = true
        }
        if fileChanged { try newFile() }
        if lineChanged {
            let line = try varLenUnsignedSilent()
            guard first || line != location.line else {
                throw StreamReadError("location repeats its line as a change")
            }
            location.line = line
        }
        if columnChanged {
            let column = try varLenUnsignedSilent()
            guard first || column != location.column else {
                throw StreamReadError("location repeats its column as a change")
            }
            location.column = column
        }
        emitKnown(record)
    }

    private mutating func newFile() throws(StreamReadError) {
        if try take(1) == 1 {
            guard location.pwd < 0 else { throw StreamReadError("working directory streamed twice in one section") }
            guard let pwd = try bitpackString(emitting: false) else { throw StreamReadError("null working directory") }
            location.pwd = pwd
            location.pwdPending = true
        }
        guard let file = try bitpackString(emitting: false) else { throw StreamReadError("location names no file") }
        let relative = strings.contents(file).first != UInt8(ascii: "/")
        if location.pwdPending {
            guard relative else { throw StreamReadError("working directory streamed before an absolute file name") }
            location.pwdPending = false
        }
        guard !relative || location.pwd >= 0 else { throw StreamReadError("relative file name without a working directory") }
        location.file = file
        location.sysp = try take(1) == 1
        if locationBytes != nil {
            for entry in [location.pwd, file] where entry >= 0 { locationBytes?.append(strings.entryBytes(entry)) }
        }
    }

    private mutating func emitKnown(_ record: LocationRecord) {
        switch treatment(record) {
        case .keep:
            keptLocations += 1
            emit(2)
            emitFile()
            emit(location.line)
            emit(location.column)
        case .keepFile:
            emit(3)
            emitFile()
            count(record.category)
        case .abstract:
            emit(4)
            emit(location.sysp ? 1 : 0)
            count(record.category)
        }
    }

    /// The policy's decision for a kind of record, asked once per section and kind.
    private mutating func treatment(_ record: LocationRecord) -> LocationTreatment {
        let slot = record.slot
        if let known = decisions[slot] { return known }
        let decided = policy.decide(LocationSite(section: section, record: record))
        decisions[slot] = decided
        return decided
    }

    /// The file as lto1 resolves it: relative names with the working directory streamed before.
    private mutating func emitFile() {
        let name = strings.contents(location.file)
        let relative = name.first != UInt8(ascii: "/")
        if relative, location.pwd >= 0 {
            let pwd = strings.contents(location.pwd)
            emit(UInt64(pwd.count) + 1)
            out.append(contentsOf: pwd)
        } else {
            emit(0)
        }
        emit(UInt64(name.count))
        out.append(contentsOf: name)
        emit(location.sysp ? 1 : 0)
    }

    /// Counts an abstracted location of the current file, and keeps its position (line,
    /// column, the working directory it is relative to) so that two readings can tell
    /// which files' locations moved.
    private mutating func count(_ category: LocationCategory) {
        switch category {
        case .declaration: abstracted[location.file].declarations += 1
        case .statement: abstracted[location.file].statements += 1
        }
        let directory = location.pwd >= 0 ? Digest.of(strings.contents(location.pwd)).low : 0
        positions[location.file, default: []] += [location.line, location.column, directory]
    }

    /// The "block changed" bit ends the bit-pack; a changed block follows as a tree.
    private mutating func locationBlock() throws(StreamReadError) {
        let changed = try field(1) == 1
        try bitpackEnd()
        if currentBlock == nil, !changed { throw StreamReadError("first location with block does not stream its block") }
        guard changed else { return }
        let block = try readTree()
        switch block {
        case .null: break
        case .node(let index):
            guard nodeCode[index] == TreeCode.block else { throw StreamReadError("location block is a \(TreeCode.names[Int(nodeCode[index])])") }
        case .global, .ssaName: throw StreamReadError("location block is not a BLOCK")
        }
        if let current = currentBlock, current == block { throw StreamReadError("location block streamed again unchanged") }
        currentBlock = block
    }
}
