import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files that hold secrets (private keys, tokens) with mode 0600 from the moment they exist.
public enum SecretFile {
    /// Writes `contents` to `path` with permissions 0600, replacing any file there atomically.
    public static func write(_ contents: Data, to path: String) throws(PKIError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o600)
        guard fd >= 0 else { throw PKIError(.io, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var ok = true
        contents.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { ok = false; return }
                offset += written
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw PKIError(.io, "cannot write \(path)")
        }
    }

    public static func write(_ text: String, to path: String) throws(PKIError) {
        try write(Data(text.utf8), to: path)
    }

    /// Writes a public file (certificates, public keys) with mode 0644.
    public static func writePublic(_ text: String, to path: String) throws(PKIError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        } catch {
            throw PKIError(.io, "cannot write \(path): \(error)")
        }
    }

    public static func read(_ path: String) throws(PKIError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PKIError(.io, "cannot read \(path)")
        }
    }
}
