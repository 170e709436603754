import Foundation
import LTOHash
import Testing
@testable import LTODaemon

@Suite struct CanonicalKeysTests {
    @Test func provenanceRoundTripsAndRejectsGarbage() throws {
        let record = Provenance(bytesDigest: Digest.of(Array("partition".utf8)), orders: [3, 7, 12])
        #expect(Provenance(encoded: record.encoded) == record)
        #expect(Provenance(encoded: Provenance(bytesDigest: record.bytesDigest, orders: []).encoded)?.orders == [])
        #expect(Provenance(encoded: "bytes zz\norders 1\n") == nil)
        #expect(Provenance(encoded: record.encoded.replacingOccurrences(of: "7", with: "x")) == nil)
        #expect(Provenance.key(for: record.bytesDigest) != Provenance.partitionKey(for: record.bytesDigest))
    }

    @Test func auditSettingsAreValidated() throws {
        let c = try Configuration.load(["LTOD_AUDIT": "0.25", "LTOD_CANONICAL_KEYS": "off", "HOME": "/h"])
        #expect(c.auditFraction == 0.25 && !c.canonicalKeys)
        #expect(throws: ConfigurationError.self) { try Configuration.load(["LTOD_AUDIT": "2", "HOME": "/h"]) }
        let path = NSTemporaryDirectory() + "ltod-audit-\(UUID().uuidString).toml"
        try "audit = 0.05\ncanonical_keys = true\n".write(toFile: path, atomically: false, encoding: .utf8)
        defer { unlink(path) }
        let fromFile = try Configuration.load(["LTOD_CONFIG": path, "HOME": "/h"])
        #expect(fromFile.auditFraction == 0.05 && fromFile.canonicalKeys)
        #expect(fromFile.sources["audit"] == "\(path):1")
    }

    @Test func anAuditFractionOfZeroNeverSamplesAndOneAlwaysDoes() {
        #expect(!(0..<1000).contains { _ in Audit(fraction: 0, directory: "/nonexistent").shouldAudit() })
        #expect((0..<1000).allSatisfy { _ in Audit(fraction: 1, directory: "/nonexistent").shouldAudit() })
        let audit = Audit(fraction: 1, directory: "/nonexistent")
        audit.disable(["gcc", "12.2.0"])
        #expect(audit.isDisabled(["gcc", "12.2.0"]) && !audit.isDisabled(["gcc", "13.1.0"]))
    }
}
