import Foundation
import MoEGGUF
import Testing

/// The reader against gguf-py's reader, and the writer against gguf-py's writer (byte for
/// byte), on Fixtures/metadata/all_types.gguf (Scripts/fixtures/gguf_metadata.py).
@Suite struct ReaderWriterTests {
    struct Expected: Decodable {
        struct Field: Decodable {
            let key: String
            let type: String
            let element_type: String?
            let values: [String]
        }
        struct Tensor: Decodable {
            let name: String
            let type: String
            let shape: [Int]
            let elements: Int
            let bytes: Int
            let offset: Int
        }
        let alignment: Int
        let data_offset: Int
        let fields: [Field]
        let tensors: [Tensor]
    }

    static let fixture = "metadata/all_types.gguf"

    static func expected() throws -> Expected {
        try JSONDecoder().decode(
            Expected.self, from: Data(contentsOf: Fixtures.url("metadata/all_types.json")))
    }

    /// A value as the fixture's JSON writes it: integers in decimal, floats as bit patterns.
    static func plain(_ value: GGUFValue) -> String {
        switch value {
        case .float32(let v): "\(v.bitPattern)"
        case .float64(let v): "\(v.bitPattern)"
        case .bool(let v): v ? "true" : "false"
        case .string(let v): v
        case .uint8(let v): "\(v)"
        case .int8(let v): "\(v)"
        case .uint16(let v): "\(v)"
        case .int16(let v): "\(v)"
        case .uint32(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .uint64(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .array: "array"
        }
    }

    @Test("metadata of every type reads as gguf-py reads it")
    func metadataMatchesGGUFPy() throws {
        let file = try GGUFFile(path: Fixtures.path(Self.fixture))
        let expected = try Self.expected()
        #expect(file.version == 3)
        #expect(file.metadata.keys == expected.fields.map(\.key))
        for field in expected.fields {
            let value = try #require(file.metadata[field.key])
            #expect(value.type.name == field.type, "\(field.key)")
            if case .array(let array) = value {
                #expect(array.elementType.name == field.element_type)
                let values: [String] =
                    array.elementType == .string
                    ? array.strings()! : (0..<array.count).map { Self.plain(array.element($0)) }
                #expect(values == field.values, "\(field.key)")
            } else {
                #expect([Self.plain(value)] == field.values, "\(field.key)")
            }
        }
    }

    @Test("tensor infos and offsets read as gguf-py reads them")
    func tensorsMatchGGUFPy() throws {
        let file = try GGUFFile(path: Fixtures.path(Self.fixture))
        let expected = try Self.expected()
        #expect(file.alignment == expected.alignment)
        #expect(file.dataOffset == expected.data_offset)
        #expect(file.tensors.map(\.name) == expected.tensors.map(\.name))
        for (tensor, reference) in zip(file.tensors, expected.tensors) {
            #expect(tensor.type.name == reference.type)
            #expect(tensor.shape == reference.shape)
            #expect(tensor.elementCount == reference.elements)
            #expect(tensor.byteCount == reference.bytes)
            #expect(tensor.fileOffset == reference.offset)
            #expect(file.tensor(named: tensor.name) == tensor)
        }
        // the zero-copy view is the file's bytes at that offset
        let raw = try Fixtures.bytes(Self.fixture)
        let i32 = try #require(file.tensor(named: "i32"))
        #expect(Array(file.bytes(of: i32)) == Array(raw[i32.fileRange]))
        #expect(
            (0..<7).map { file.data(of: i32).loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self) }
                == Array(0..<7))
    }

    @Test("typed accessors coerce integers and floats and say required or optional")
    func typedAccessors() throws {
        let metadata = try GGUFFile(path: Fixtures.path(Self.fixture)).metadata
        #expect(try metadata.requiredInt("test.uint8") == 255)
        #expect(try metadata.requiredInt("test.int64") == Int.min)
        #expect(try metadata.optionalInt("no.such.key") == nil)
        #expect(try metadata.requiredFloat("test.float32") == Float(3.14159))
        #expect(try metadata.requiredFloat("test.float64") == Float(2.718281828459045))
        #expect(try metadata.requiredBool("test.bool"))
        #expect(try metadata.requiredString("general.architecture") == "fixture")
        #expect(try metadata.requiredInts("array.int8") == [-128, 0, 127])
        #expect(
            try metadata.requiredStrings("array.string") == ["a", "", "\u{2581}b", "\u{1F642}"])
        #expect(try metadata.requiredFloats("array.float64") == [Float(0.1), -Float.infinity])
        #expect(
            try metadata.optionalPerLayerInts("test.uint16", layers: 3) == [65535, 65535, 65535])
        #expect(try metadata.optionalPerLayerInts("array.uint16", layers: 2) == [0, 65535])

        func reason(_ body: () throws -> Any?) -> GGUFError.Reason? {
            do {
                _ = try body()
                return nil
            } catch let error as GGUFError {
                return error.reason
            } catch {
                return nil
            }
        }
        #expect(reason { try metadata.requiredInt("absent") } == .missingKey(key: "absent"))
        #expect(
            reason { try metadata.requiredInt("test.uint64") }
                == .invalidValue(
                    key: "test.uint64", found: "uint64(18446744073709551615)",
                    expected: "at most \(Int.max)"))
        #expect(
            reason { try metadata.optionalInt("test.string") }
                == .wrongType(key: "test.string", expected: "an integer", found: "STRING"))
        #expect(
            reason { try metadata.optionalFloats("array.int8") }
                == .wrongType(
                    key: "array.int8", expected: "ARRAY of FLOAT32 or FLOAT64",
                    found: "ARRAY of INT8"))
        #expect(
            reason { try metadata.optionalPerLayerInts("array.uint16", layers: 3) }
                == .invalidValue(
                    key: "array.uint16", found: "an array of 2 entries",
                    expected: "one entry per layer (3, from block_count)"))
    }

    @Test("GGUFWriter writes the same bytes as gguf-py for the same content")
    func writerMatchesGGUFPyBytes() throws {
        let reference = try Fixtures.bytes(Self.fixture)
        let source = try GGUFFile(path: Fixtures.path(Self.fixture))

        var writer = GGUFWriter(alignment: 64)
        writer.add("general.architecture", .string("fixture"))
        writer.add("test.uint8", .uint8(255))
        writer.add("test.int8", .int8(-128))
        writer.add("test.uint16", .uint16(65535))
        writer.add("test.int16", .int16(-32768))
        writer.add("test.uint32", .uint32(4_294_967_295))
        writer.add("test.int32", .int32(-2_147_483_648))
        writer.add("test.float32", .float32(3.14159))
        writer.add("test.bool", .bool(true))
        writer.add("test.string", .string("h\u{e9}llo \u{2581}w\u{f6}rld \u{1F642}"))
        writer.add("test.uint64", .uint64(UInt64.max))
        writer.add("test.int64", .int64(Int64.min))
        writer.add("test.float64", .float64(2.718281828459045))
        writer.add("array.uint8", .array(GGUFArray(uint8: [0, 1, 255])))
        writer.add("array.int8", .array(GGUFArray(int8: [-128, 0, 127])))
        writer.add("array.uint16", .array(GGUFArray(uint16: [0, 65535])))
        writer.add("array.int16", .array(GGUFArray(int16: [-32768, 32767])))
        writer.add("array.uint32", .array(GGUFArray(uint32: [0, 7, UInt32.max])))
        writer.add("array.int32", .array(GGUFArray(int32: [Int32.min, -1, Int32.max])))
        writer.add(
            "array.float32",
            .array(GGUFArray(float32: [0.5, -1.5, .infinity, Float(bitPattern: 1)])))
        writer.add("array.bool", .array(GGUFArray(bools: [true, false, true])))
        writer.add("array.string", .array(GGUFArray(strings: ["a", "", "\u{2581}b", "\u{1F642}"])))
        writer.add("array.uint64", .array(GGUFArray(uint64: [0, UInt64.max])))
        writer.add("array.int64", .array(GGUFArray(int64: [Int64.min, Int64.max])))
        writer.add("array.float64", .array(GGUFArray(float64: [0.1, -2.5e300])))
        for tensor in source.tensors {
            writer.addTensor(
                tensor.name, type: tensor.type, shape: tensor.shape,
                bytes: Array(source.bytes(of: tensor)))
        }
        let written = writer.bytes()
        #expect(written.count == reference.count)
        let firstDifference = zip(written, reference).enumerated().first {
            $0.element.0 != $0.element.1
        }?.offset
        #expect(firstDifference == nil, "first differing byte at \(firstDifference ?? -1)")

        // and through a file
        let path = temporaryPath("writer.gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writer.write(to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(reference))
    }

    @Test("version 2 files read like version 3")
    func versionTwo() throws {
        var raw = try Fixtures.bytes(Self.fixture)
        raw[4] = 2
        let file = try GGUFFile(bytes: raw, path: "v2.gguf")
        #expect(file.version == 2)
        #expect(file.tensors.count == 4)
    }

    @Test("tensors quantised by the writer read back through the reader")
    func writerQuantisesTensors() throws {
        let values = (0..<128).map { Float($0 - 64) / 8 }
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("test"))
        for type in [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0] {
            writer.addTensor("t.\(type.name)", type: type, shape: [64, 2], values: values)
        }
        writer.addTensor("filled", type: .i8, shape: [5]) { buffer in
            for i in 0..<5 { buffer[i] = UInt8(i * 3) }
        }
        let file = try GGUFFile(bytes: writer.bytes())
        #expect(try file.floats(of: file.requiredTensor(named: "t.F32")) == values)
        #expect(try file.floats(of: file.requiredTensor(named: "t.F16")) == values)
        #expect(try file.floats(of: file.requiredTensor(named: "t.BF16")) == values)
        let q8 = try file.floats(of: file.requiredTensor(named: "t.Q8_0"))
        let worst = zip(q8, values).map { abs($0 - $1) }.max()!
        #expect(worst <= 8.0 / 127 / 2 * 1.01, "largest Q8_0 error \(worst)")
        #expect(
            Array(file.bytes(of: try file.requiredTensor(named: "filled"))) == [0, 3, 6, 9, 12])
        #expect(file.tensors.allSatisfy { $0.fileOffset % 32 == 0 })
    }
}

extension ReaderWriterTests {
    @Test("array elements read one by one equal the decoded arrays")
    func arrayElements() throws {
        let metadata = try GGUFFile(path: Fixtures.path(Self.fixture)).metadata
        let strings = try #require(try metadata.optionalArray("array.string"))
        #expect(
            (0..<strings.count).map { strings.element($0) }
                == strings.strings()!.map { .string($0) })
        let int16 = try #require(try metadata.optionalArray("array.int16"))
        #expect((0..<int16.count).map { int16.element($0) } == [.int16(-32768), .int16(32767)])
    }
}

extension ReaderWriterTests {
    static func smallWriter(_ name: String) -> GGUFWriter {
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("test"))
        writer.add("general.name", .string(name))
        writer.addTensor("t", type: .f32, shape: [4], values: [1, 2, 3, 4])
        return writer
    }

    /// A symbolic link is followed (its target replaced, the link kept); a directory or a
    /// device is refused, not replaced (`synth --out /dev/full` replaced the device node).
    @Test("write(to:) follows links, refuses what is not a regular file, leaves no temporary")
    func writeTargets() throws {
        let target = temporaryPath("target.gguf")
        let link = temporaryPath("link.gguf")
        let directory = temporaryPath("a-directory")
        defer {
            for path in [target, link, directory] {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        try Self.smallWriter("first").write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try Self.smallWriter("second").write(to: link)
        let attributes = try FileManager.default.attributesOfItem(atPath: link)
        #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink)
        let file = try GGUFFile(path: target)
        #expect(file.metadata["general.name"] == .string("second"))

        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true)
        for refused in [directory, "/dev/null"] {
            #expect(throws: GGUFError.self) { try Self.smallWriter("x").write(to: refused) }
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory))
        #expect(isDirectory.boolValue)
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: FileManager.default.temporaryDirectory.path
        ).filter { $0.contains("target.gguf.partial") }
        #expect(leftovers.isEmpty)
    }
}
