import Foundation

/// An exam session's result roster (考核结果名册) through its life:
///
///     uploading ──seal──▶ sealed ──a sealed correction of it──▶ superseded
///
/// While uploading, the organization adds numbered chunks of candidates; each chunk, once
/// acknowledged, never changes (the same chunk again is answered as before). Sealing needs
/// chunks 0…n without gaps and, if the organization says how many candidates it expects,
/// exactly that many. A sealed roster never changes: it is corrected by a new version that
/// supersedes it when that one is sealed in turn. Only the newest sealed version is corrected.
public struct RosterLifecycle: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        case uploading, sealed, superseded
    }

    /// What sealing (or correcting) changes, to persist as it says.
    public enum Event: Sendable, Hashable {
        /// The roster is sealed: its candidates are final and published.
        case sealed(rosterID: Int64, at: Date)
        /// The roster this one corrects is superseded by it.
        case superseded(rosterID: Int64)
    }

    /// A chunk offered for upload, as the roster stands.
    public enum ChunkAcceptance: Sendable, Hashable {
        /// New: store it.
        case new
        /// Acknowledged before with the same rows: answer as then, store nothing.
        case repeated
    }

    public let id: Int64
    public private(set) var state: State
    public let version: Int32
    /// The acknowledged chunks: index → digest of their rows.
    public let chunks: [Int32: String]
    public let rowCount: Int64
    /// The sealed roster this version corrects; nil for a first version.
    public let supersedes: Int64?
    /// The version that corrects this one, once there is one (uploading or sealed).
    public let correctedBy: Int64?

    public init(
        id: Int64, state: State, version: Int32 = 1, chunks: [Int32: String] = [:], rowCount: Int64 = 0,
        supersedes: Int64? = nil, correctedBy: Int64? = nil
    ) {
        self.id = id
        self.state = state
        self.version = version
        self.chunks = chunks
        self.rowCount = rowCount
        self.supersedes = supersedes
        self.correctedBy = correctedBy
    }

    /// Whether chunk `index` with rows of `digest` is new or a repeat.
    ///
    /// - Throws: FAILED_PRECONDITION (field `chunk_index`) when the chunk was acknowledged
    ///   with other rows; FAILED_PRECONDITION when a new chunk comes to a sealed roster.
    public func accept(chunk index: Int32, digest: String) throws(DomainError) -> ChunkAcceptance {
        if let acknowledged = self.chunks[index] {
            guard acknowledged == digest else {
                throw DomainError(
                    .failedPrecondition, reason: "roster.chunk-changed", field: "chunk_index",
                    "chunk \(index) of roster \(self.id) was already uploaded with other rows; a roster's chunks never change"
                )
            }
            return .repeated
        }
        guard self.state == .uploading else {
            throw DomainError(
                .failedPrecondition, reason: "roster.sealed",
                """
                roster \(self.id) is sealed and never changes; to correct it, create a roster with supersedes_roster_id \(self.id) and a \
                correction_reason
                """
            )
        }
        return .new
    }

    /// Seals the roster: its events, or none when it is sealed already (sealing again
    /// answers the same, and the roster is published once).
    ///
    /// - Throws: FAILED_PRECONDITION without chunks, with a gap in their numbers, or with
    ///   another number of candidates than `expectedRowCount` (0: not checked).
    public mutating func seal(expectedRowCount: Int64, now: Date) throws(DomainError) -> [Event] {
        guard self.state == .uploading else { return [] }
        let indices = self.chunks.keys.sorted()
        guard !indices.isEmpty else {
            throw DomainError(
                .failedPrecondition, reason: "roster.no-chunks", "roster \(self.id) has no chunks yet; upload its candidates, then seal it")
        }
        if let missing = (0..<Int32(indices.count)).first(where: { indices[Int($0)] != $0 }) {
            throw DomainError(
                .failedPrecondition, reason: "roster.chunk-missing",
                "roster \(self.id) lacks chunk \(missing): chunks are numbered from 0 without gaps (uploaded: \(Self.ranges(indices)))"
            )
        }
        if expectedRowCount != 0, expectedRowCount != self.rowCount {
            throw DomainError(
                .failedPrecondition, reason: "roster.row-count-differs",
                """
                roster \(self.id) holds \(self.rowCount) candidates in \(indices.count) chunks, not the \(expectedRowCount) expected; \
                upload what is missing before sealing
                """
            )
        }
        self.state = .sealed
        return (self.supersedes.map { [Event.superseded(rosterID: $0)] } ?? []) + [.sealed(rosterID: self.id, at: now)]
    }

    /// The version number of a new roster correcting this one.
    ///
    /// - Throws: FAILED_PRECONDITION unless this one is sealed and not superseded;
    ///   ALREADY_EXISTS when another version already corrects it.
    public func correctionVersion() throws(DomainError) -> Int32 {
        switch self.state {
        case .sealed:
            break
        case .uploading:
            throw DomainError(
                .failedPrecondition, reason: "roster.correcting-unsealed",
                "roster \(self.id) is not sealed yet: upload into it, then seal it; only a sealed roster is corrected"
            )
        case .superseded:
            throw DomainError(
                .failedPrecondition, reason: "roster.correcting-superseded",
                "roster \(self.id) is already superseded by roster \(self.correctedBy ?? 0); correct that one"
            )
        }
        if let correctedBy = self.correctedBy {
            throw DomainError(
                .alreadyExists, reason: "roster.correction-exists",
                "roster \(correctedBy) already corrects roster \(self.id); upload into it and seal it"
            )
        }
        return self.version + 1
    }

    /// `0-3, 5, 7-9`.
    static func ranges(_ indices: [Int32]) -> String {
        var parts: [String] = []
        var start = indices[0]
        var end = start
        for index in indices.dropFirst() {
            if index == end + 1 {
                end = index
                continue
            }
            parts.append(start == end ? "\(start)" : "\(start)-\(end)")
            start = index
            end = index
        }
        parts.append(start == end ? "\(start)" : "\(start)-\(end)")
        return parts.joined(separator: ", ")
    }
}
