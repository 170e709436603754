// LTOGCCBackend: what a job of an interrupted link leaves behind: nothing that GCC itself
// would not. GCC's driver removes its output when a signal stops it, and lto-wrapper removes
// the partitions it has read; a job the daemon finished (or stopped) after its link's shim
// went away removes what it wrote into the link's files, since nobody else will.
import Foundation
import LTOGCC
import LTOSystem

/// A WPA or LTRANS job whose link was interrupted.
struct InterruptedJob {
    let command: DriverCommand
    let job: DriverJob

    /// Removes the job's outputs: an LTRANS object; WPA's output list and the partitions it
    /// wrote (lto-wrapper had not read the list yet, so it removes neither).
    func removeOutputs() {
        switch command {
        case .ltrans(let ltrans): unlink(job.absolute(ltrans.output))
        case .wpa(let wpa):
            let list = job.absolute(wpa.outputList)
            unlink(list)
            let directory = directoryName(list)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where wpa.writesPartition(named: name) {
                unlink(directory + "/" + name)
            }
        case .other: break
        }
    }
}
