// LTOGCC: how ltod answers lto-wrapper's WPA request once it has compiled every partition
// itself: the LTRANS output list lto-wrapper reads back, and which files go.

/// The LTRANS output list handed back to lto-wrapper after ltod compiled (or restored) the
/// partitions, and the files to remove.
///
/// Every finished object is a pass-through entry, so lto-wrapper starts no process for it.
/// When lto-wrapper runs LTRANS one by one (a bare `-fwpa`), the finished objects go into
/// one `FinishedObjectList` instead: one entry keeps its "serial compilation" warning away.
/// From the first partition that failed on, entries stay as WPA wrote them: lto-wrapper then
/// runs those LTRANS jobs itself and reports their failure exactly as GCC does.
public struct WPAAnswer: Equatable, Sendable {
    /// The LTRANS output list lto-wrapper reads.
    public let list: [LTRANSListEntry]
    /// The finished-object list to write first, when `list` names one.
    public let objectList: (path: String, text: String)?
    /// Partition files nobody reads any more (lto-wrapper removes only those it compiles).
    public let partitionsToRemove: [String]
    /// Finished objects of partitions that lto-wrapper compiles again itself.
    public let objectsToRemove: [String]

    /// `entries`: WPA's list; `outputs[i]`: partition i's finished object, nil where its
    /// LTRANS failed; `serial`: lto-wrapper runs LTRANS one by one; `outputList`: the path of
    /// WPA's list (the finished-object list goes beside it).
    public init(entries: [LTRANSListEntry], outputs: [String?], serial: Bool, outputList: String) {
        let firstFailed = outputs.firstIndex { $0 == nil } ?? outputs.count
        let finished = outputs.prefix(firstFailed).map { $0! }
        if firstFailed == entries.count && serial && entries.count > 1 {
            let path = FinishedObjectList.path(forOutputList: outputList)
            list = [LTRANSListEntry(priority: entries.map(\.priority).max() ?? 0, path: path, passThrough: true)]
            objectList = (path, FinishedObjectList.render(finished))
        } else {
            list = entries.indices.map { i in
                i < firstFailed ? LTRANSListEntry(priority: entries[i].priority, path: finished[i], passThrough: true) : entries[i]
            }
            objectList = nil
        }
        partitionsToRemove = entries.prefix(firstFailed).map(\.path)
        objectsToRemove = outputs.dropFirst(firstFailed).compactMap { $0 }
    }

    public static func == (a: WPAAnswer, b: WPAAnswer) -> Bool {
        a.list == b.list && a.objectList?.path == b.objectList?.path && a.objectList?.text == b.objectList?.text
            && a.partitionsToRemove == b.partitionsToRemove && a.objectsToRemove == b.objectsToRemove
    }
}
