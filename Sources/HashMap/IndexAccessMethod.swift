// IndexAccessMethod.swift: the two Berkeley DB access methods Postfix offers
// for indexed tables, named as in a map specification ("hash:/etc/...").

import CLibDB

public enum IndexAccessMethod: String, Sendable, CaseIterable {
    case hash
    case btree

    /// Postfix stores both kinds as "<source>.db"; the access method is
    /// recorded inside the file, not in its name.
    public var fileSuffix: String { ".db" }

    var databaseType: DBTYPE {
        switch self {
        case .hash: return DB_HASH
        case .btree: return DB_BTREE
        }
    }
}
