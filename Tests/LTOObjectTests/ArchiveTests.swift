// Tests of GNU archive listing, member reading and the plugin's `archive@0xOFFSET` names.
import Foundation
import LTOTestSupport
import LTOObject
import LTOSystem
import Testing

@Suite struct ArchiveTests {
    @Test func listsMembersWithLongNamesAndSymbolIndex() throws {
        let dir = try TemporaryDirectory()
        try ThreeFileProgram.makeArchive(in: dir)
        let bytes = try dir.bytes("libx.a")
        let archive = try Archive(bytes: bytes, path: "libx.a")
        #expect(archive.members.map(\.name) == [ThreeFileProgram.longMemberName, "third.o"])
        for member in archive.members {
            #expect(member.dataOffset == member.headerOffset + 60)
            let original = try dir.bytes(member.name)
            #expect(Array(bytes[member.dataOffset..<(member.dataOffset + member.size)]) == original)
        }
        #expect(Set(archive.symbols.map(\.name)) == ["helper", "third"])
        for symbol in archive.symbols {
            #expect(archive.members.contains { $0.headerOffset == symbol.memberHeaderOffset })
        }
        #expect(try readArchive(path: dir.file("libx.a")) == archive)
    }

    /// Links against the archive and checks that every `libx.a@0xOFFSET` in the linker
    /// plugin's resolution file names a member's data offset, readable with readArchiveMember.
    @Test func pluginOffsetsAreMemberDataOffsets() throws {
        let dir = try TemporaryDirectory()
        try ThreeFileProgram.makeArchive(in: dir)
        try dir.run("gcc", ["-O2", "-flto", "-flto-partition=1to1", "-save-temps", "-o", "app", "main.o", "libx.a"])
        let resolution = try String(contentsOfFile: dir.file("app.res"), encoding: .utf8)
        let references = resolution.split(separator: "\n").compactMap { line -> ArchiveMemberReference? in
            ArchiveMemberReference(parsing: String(line.split(separator: " ").first ?? ""))
        }
        #expect(references.count == 2)
        let archive = try readArchive(path: dir.file("libx.a"))
        for reference in references {
            #expect(reference.archivePath == "libx.a")
            let member = try #require(archive.member(atDataOffset: reference.dataOffset))
            let read = try readArchiveMember(archivePath: dir.file("libx.a"), dataOffset: reference.dataOffset)
            #expect(read.bytes == (try dir.bytes(member.name)))
            #expect(read.identity == FileIdentity(path: dir.file("libx.a")))
        }
    }

    @Test func memberReferenceSyntax() {
        let plain = ArchiveMemberReference(parsing: "libx.a@0xf4")
        #expect(plain == ArchiveMemberReference(archivePath: "libx.a", dataOffset: 0xf4))
        #expect(plain?.description == "libx.a@0xf4")
        #expect(ArchiveMemberReference(parsing: "/a@b/lib.a@0x100000fa8")?.archivePath == "/a@b/lib.a")
        #expect(ArchiveMemberReference(parsing: "/a@b/lib.a@0x100000fa8")?.dataOffset == 0x1_0000_0fa8)
        #expect(ArchiveMemberReference(archivePath: "l.a", dataOffset: 0x1_0000_0fa8).description == "l.a@0x100000fa8")
        for bad in ["x.o", "x.a@0x", "x.a@0xg1", "@0x10", "x.a@0x-1", "x.a@0x+1", "x.a@0x12345678901234567", "x.a@10"] {
            #expect(ArchiveMemberReference(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func archiveErrors() throws {
        let dir = try TemporaryDirectory()
        try ThreeFileProgram.makeArchive(in: dir)
        let bytes = try dir.bytes("libx.a")
        let archive = try Archive(bytes: bytes, path: "libx.a")
        let last = archive.members[1]

        expectError(.truncated, "extends past end of archive") {
            try Archive(bytes: Array(bytes[..<(last.dataOffset + 10)]), path: "libx.a")
        }
        expectError(.truncated, "partial member header") {
            try Archive(bytes: Array(bytes[..<(last.headerOffset + 30)]), path: "libx.a")
        }
        var badSize = bytes
        badSize.replaceSubrange((last.headerOffset + 48)..<(last.headerOffset + 51), with: Array("12a".utf8))
        expectError(.malformed, "invalid size field") { try Archive(bytes: badSize, path: "libx.a") }

        var badTerminator = bytes
        badTerminator[last.headerOffset + 58] = UInt8(ascii: "x")
        expectError(.malformed, "terminator") { try Archive(bytes: badTerminator, path: "libx.a") }

        var badLongName = bytes
        let first = archive.members[0]
        badLongName.replaceSubrange(first.headerOffset..<(first.headerOffset + 16), with: Array("/99999          ".utf8))
        expectError(.malformed, "past the end of the long name table") {
            try Archive(bytes: badLongName, path: "libx.a")
        }

        var hugeIndex = bytes
        hugeIndex.replaceSubrange(68..<72, with: [0x7f, 0xff, 0xff, 0xff])
        expectError(.malformed, "symbol index") { try Archive(bytes: hugeIndex, path: "libx.a") }

        var thin = bytes
        thin.replaceSubrange(0..<8, with: Array("!<thin>\n".utf8))
        expectError(.unsupported, "thin archives") { try Archive(bytes: thin, path: "libx.a") }
        expectError(.wrongFormat, "libx.a: not an archive") {
            try Archive(bytes: Array("hello world, not an archive".utf8), path: "libx.a")
        }
        expectError(.noSuchMember, "no archive member starts at offset 0x10") {
            try readArchiveMember(archivePath: dir.file("libx.a"), dataOffset: 0x10)
        }
        #expect(try Archive(bytes: Array("!<arch>\n".utf8), path: "empty.a").members.isEmpty)
    }
}
