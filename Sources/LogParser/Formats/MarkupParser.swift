import Knowledge
import ScanModel

/// Parses the deployment wizard's HTML logs and LCSCmd's XML logs as a stream of text runs
/// inside a tree of elements.
///
/// The real element names are not public, so the parser relies on structure only: it strips
/// tags (which may span lines), decodes entities, skips scripts, styles and comments, and gives
/// each element a heading — its `name`/`title` attribute or its first text. A record's context
/// is the headings of the elements that enclose it: "Activate Enterprise Edition Server ›
/// Add firewall exceptions". Unclosed tags are tolerated; nesting is capped; entities declared
/// in a DOCTYPE are never expanded (no entity bombs).
struct MarkupParser {
    let path: String
    let format: LogFormat
    /// The words of named fields: table headers, XML attribute and element names (nil: none are read).
    let vocabulary: FieldNames?

    /// The most elements kept open; deeper nesting is counted but not tracked.
    static let maximumDepth = 64
    /// A text run longer than this ends at the next line break.
    static let maximumRunLength = 4096
    /// The most bytes kept for one tag; the rest of a longer tag is skipped.
    static let maximumTagLength = 8192

    private struct Element {
        /// The element's name, lower-cased and hashed (``nameCode(_:)``): compared without allocating.
        var name: UInt64
        var heading: String?
        /// Whether this element may hold a heading (document-level and table containers do not).
        var takesHeading: Bool
        /// The element's name as written (XML only, for named fields).
        var rawName: String? = nil
        /// Whether the element's name names a field ("<Port>5061</Port>").
        var isField = false
        /// Texts of child elements that name fields, kept until this element closes.
        var group: [Piece] = []
        /// A heading by its tag or class (`<h4>`, `<div class="step">`) that holds only text: when it
        /// closes, its text heads the siblings that follow it.
        var isFlatHeading = false
        var hasChildElement = false
        /// The text of the last flat heading among this element's children.
        var flatHeading: String?
        /// A definition list's last term (`<dt>`), naming the description that follows.
        var term: String?
    }

    /// A text run held back until its table row or XML element is complete.
    private struct Piece {
        var bytes: [UInt8]
        var line: Int
        var offset: Int
        var kind: RecordKind
        var outcome: Outcome?
        var context: [String]
        /// The field it is the value of (XML child elements, definition-list descriptions).
        var field: String?
        /// Already given out as a record of its own (kept only as a field of its group).
        var given = false
        /// The whole text when `bytes` holds only a value ("Protocol: TCP" → "TCP"): what goes out
        /// when the group turns out to be no entry.
        var whole: [UInt8]? = nil
    }

    /// A table being read: its header (when its first row names columns) and the row being read.
    private struct Table {
        /// The table element's position in the stack.
        var depth: Int
        var header: [String]?
        var rows = 0
        var row: Row?
        /// Rows of a key/value table (`<tr><td>Port</td><td>5061</td></tr>`) not given out yet: the
        /// value pieces named by their key, and the rows as read (to give out as they are when the
        /// pairs name no entry field).
        var pairs: [Piece] = []
        var pairRows: [(text: String, first: Piece)] = []
    }

    private struct Row {
        var cells: [[Piece]] = []
        /// How many texts the row holds.
        var pieces = 0
        var cellIsHeader: [Bool] = []
        /// False once something (a nested table) forced its texts out early.
        var buffering = true
    }

    private var tables: [Table] = []
    /// The last text run and the depth it was read at (for flat headings).
    private var lastText: (text: [UInt8], depth: Int)?
    /// Class names that make a text-only element a heading of the siblings after it, when no
    /// vocabulary gives them (fields.yaml `heading-classes`).
    static let defaultHeadingClasses: [[UInt8]] = [
        "step", "task", "action", "heading", "header", "title", "section", "phase", "stage",
    ].map { Array($0.utf8) }
    /// Headings of what follows them (`<h1>` titles the document, like `<title>`, and heads nothing).
    private static let headingTags: Set<UInt64> = Set(["h2", "h3", "h4", "h5", "h6"].map(nameCode))

    private enum State {
        case text
        case tag
        case comment
        case declaration
        /// Inside `<![CDATA[ … ]]>`: text taken as it is (no tags, no entities).
        case characterData
        case rawText(closing: [UInt8])
    }

    private var stack: [Element] = []
    private var overflowDepth = 0
    private var state = State.text
    private var tag: [UInt8] = []
    private var text: [UInt8] = []
    private var textLine = 0
    private var textOffset = 0
    private var context: [String] = []
    private var contextIsCurrent = true
    /// The document's `<title>`: the wizard names its logs after the step, so it roots the context.
    private var documentTitle: String?
    /// The last text and the depth it was at, while no element has opened or closed since.
    private var headingCandidate: (text: [UInt8], depth: Int)?
    /// How many `<pre>` elements are open (kept as elements are pushed and popped: this is read per line).
    private var preDepth = 0
    private static let preName = nameCode("pre")
    private static let titleName = nameCode("title")
    private static let tdName = nameCode("td")
    private static let thName = nameCode("th")
    private static let trName = nameCode("tr")
    private static let tableName = nameCode("table")
    private static let dlName = nameCode("dl")
    private static let liName = nameCode("li")
    private static let ulName = nameCode("ul")
    private static let olName = nameCode("ol")
    private static let dtName = nameCode("dt")
    private static let ddName = nameCode("dd")
    /// `&amp;`: an ampersand of a CDATA section, as the run's decoder gives it back.
    private static let escapedAmpersand = Array("&amp;".utf8)
    /// Reused buffers for a text run being decoded and collapsed.
    private var decoded: [UInt8] = []
    private var collapsed: [UInt8] = []

    /// FNV-1a of a name's lower-cased bytes.
    static func nameCode<Bytes: Sequence<UInt8>>(bytes: Bytes) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(LogParser.Bytes.lower(byte))
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func nameCode(_ name: String) -> UInt64 { nameCode(bytes: name.utf8) }

    init(path: String, format: LogFormat, vocabulary: FieldNames? = nil) {
        self.path = path
        self.format = format
        self.vocabulary = vocabulary
    }

    mutating func parse(_ line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        let bytes = line.buffer
        var index = 0
        while index < bytes.count {
            switch state {
            case .text:
                // Copy text up to the next tag.
                var end = index
                while end < bytes.count, bytes[end] != 0x3C { end += 1 }
                if end > index {
                    if text.isEmpty {
                        textLine = line.number
                        textOffset = line.byteOffset
                    }
                    text.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<end]))
                }
                index = end
                if index < bytes.count {
                    // "<" starts a tag, a comment or a declaration.
                    if Bytes.hasPrefix(bytes, "<!--", at: index) {
                        state = .comment
                        index += 4
                    } else if Bytes.hasPrefix(bytes, "<![CDATA[", at: index) {
                        state = .characterData
                        index += 9
                    } else if Bytes.hasPrefix(bytes, "<!", at: index) || Bytes.hasPrefix(bytes, "<?", at: index) {
                        state = .declaration
                        index += 2
                    } else {
                        state = .tag
                        tag.removeAll(keepingCapacity: true)
                        index += 1
                    }
                }
            case .tag:
                var end = index
                while end < bytes.count, bytes[end] != 0x3E { end += 1 }
                let room = Self.maximumTagLength - tag.count
                if room > 0 {
                    tag.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[index..<min(end, index + room)]))
                }
                index = end
                if index < bytes.count {
                    index += 1
                    state = .text
                    try handleTag(line: line, emit)
                } else {
                    tag.append(0x20)  // a tag split across lines: the line break separates attributes
                }
            case .comment:
                guard let close = Bytes.find("-->", in: bytes, from: index) else {
                    index = bytes.count
                    continue
                }
                index = close + 3
                state = .text
            case .characterData:
                // Text as written: '&' is kept as "&amp;" so that decoding the run gives it back.
                let close = Bytes.find("]]>", in: bytes, from: index)
                let end = close ?? bytes.count
                // A long (or never closed) section is given out in runs, like long text: nothing is
                // dropped, and the rest of a document after an unclosed opener is still read as text.
                for byte in bytes[index..<end] {
                    if text.isEmpty {
                        textLine = line.number
                        textOffset = line.byteOffset
                    }
                    if byte == 0x26 { text.append(contentsOf: Self.escapedAmpersand) } else { text.append(byte) }
                    if text.count > Self.maximumRunLength { try flushText(emit) }
                }
                index = close.map { $0 + 3 } ?? bytes.count
                if close != nil { state = .text }
            case .declaration:
                // DOCTYPE, <?xml …?>: skipped whole; entity declarations are never expanded.
                var end = index
                while end < bytes.count, bytes[end] != 0x3E { end += 1 }
                index = end
                if index < bytes.count {
                    index += 1
                    state = .text
                }
            case .rawText(let closing):
                // Script and style bodies: skip to their closing tag.
                var found: Int?
                var search = index
                while search < bytes.count {
                    if bytes[search] == 0x3C, search + 1 < bytes.count, bytes[search + 1] == 0x2F,
                        Self.nameMatches(bytes, at: search + 2, closing)
                    {
                        found = search
                        break
                    }
                    search += 1
                }
                guard let found else {
                    index = bytes.count
                    continue
                }
                index = found + 2 + closing.count
                while index < bytes.count, bytes[index] != 0x3E { index += 1 }
                if index < bytes.count { index += 1 }
                state = .text
            }
        }
        // Tags delimit text runs, so an entry wrapped over two lines stays one record. Inside <pre>,
        // and for runs that grow long, a line break ends the run (records stay tied to their lines).
        switch state {
        case .text where preDepth > 0 || text.count > Self.maximumRunLength: try flushText(emit)
        case .text, .characterData:
            // A line break inside a text run separates words ("Failure" / "[0xC3EC796C]").
            if !text.isEmpty && text.last != 0x20 { text.append(0x20) }
        default: break
        }
    }

    mutating func finish(_ emit: (RecordDraft) throws -> Void) rethrows {
        try flushText(emit)
        // Rows and groups still held (an unclosed table or element) are given out as they are.
        while !tables.isEmpty { try finishTable(emit) }
        for index in stack.indices.reversed() where !stack[index].group.isEmpty {
            let pieces = stack[index].group
            stack[index].group = []
            for piece in pieces where !piece.given { try give(piece, emit) }
        }
    }

    /// Whether an element was opened: a document that has read none has not begun.
    private var openedElement = false

    /// Whether the document has ended: its elements were opened and all closed again (`</html>`,
    /// the XML root's end tag). Kept as tags are read (the stream asks after every line).
    private(set) var hasEnded = false

    /// Whether the document stopped inside a tag, a comment, a declaration or a script, or with
    /// elements still open.
    var isInsideRecord: Bool {
        if case .text = state { return !stack.isEmpty || overflowDepth > 0 }
        return true
    }

    private static func nameMatches(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ name: [UInt8]) -> Bool {
        guard bytes.count - offset >= name.count else { return false }
        for (position, expected) in name.enumerated() where Bytes.lower(bytes[offset + position]) != expected {
            return false
        }
        return true
    }

    // MARK: - Tags

    private static let voidElements: Set<UInt64> = Set(
        ["br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "param", "source"].map(nameCode))
    private static let noHeading: Set<UInt64> = Set(
        [
            "html", "head", "body", "table", "thead", "tbody", "tfoot", "form", "title", "style", "script", "b", "i",
            "u",
            "em", "strong", "font", "a", "span", "code", "small", "big", "sup", "sub", "img", "br",
        ].map(nameCode))
    private static let inlineElements: Set<UInt64> = Set(
        ["b", "i", "u", "em", "strong", "font", "a", "span", "code", "small", "big", "sup", "sub"].map(nameCode))
    private static let rawTextElements: Set<UInt64> = Set(["script", "style"].map(nameCode))

    private mutating func handleTag(line: Line, _ emit: (RecordDraft) throws -> Void) rethrows {
        var index = 0
        while index < tag.count, Bytes.isSpace(tag[index]) { index += 1 }
        let closing = index < tag.count && tag[index] == 0x2F
        if closing { index += 1 }
        let nameStart = index
        while index < tag.count, !Bytes.isSpace(tag[index]), tag[index] != 0x2F, tag[index] != 0x3E { index += 1 }
        guard index > nameStart, tag[nameStart] >= 0x41 else {
            // "<" that starts no tag ("a < b", "<5061>"): keep it as text (starting a run here if none is open).
            if text.isEmpty {
                textLine = line.number
                textOffset = line.byteOffset
            }
            text.append(0x3C)
            text.append(contentsOf: tag)
            if !tag.isEmpty, tag.last == 0x20 { text.removeLast() }
            text.append(0x3E)
            return
        }
        let name = Self.nameCode(bytes: tag[nameStart..<index])
        let isInline = Self.inlineElements.contains(name)
        // Inline elements (span, b, font …) do not split text: "Execution Result: <b>&lt;Success&gt;</b>" stays one run.
        if !isInline { try flushText(emit) }
        if closing {
            if overflowDepth > 0 {
                overflowDepth -= 1
                return
            }
            // A table row's first cell names the row: "<tr><td>Task</td><td>result…</td></tr>".
            if let candidate = headingCandidate, candidate.depth == stack.count, stack.count >= 2,
                name == Self.tdName || name == Self.thName, stack[stack.count - 1].name == name,
                stack[stack.count - 2].name == Self.trName, stack[stack.count - 2].heading == nil
            {
                stack[stack.count - 2].heading = String(decoding: candidate.text, as: UTF8.self)
            }
            headingCandidate = nil
            // Pop to the matching element when it is open; a stray closing tag is ignored.
            if let position = stack.lastIndex(where: { $0.name == name }) {
                // A flat heading closes: its text heads the siblings after it ("<h4>Task: Configure
                // firewall</h4><table>…", "<div class=step>…</div><div class=detail>…").
                // A text-only element that starts with a label ("Tarea: …") heads its siblings too.
                if position == stack.count - 1, position > 0, !stack[position].hasChildElement,
                    let last = lastText, last.depth == stack.count,
                    stack[position].isFlatHeading || vocabulary?.startsWithHeadingLabel(last.text) == true
                        || vocabulary?.namesFirewallSection(last.text) == true
                {
                    stack[position - 1].flatHeading = String(decoding: last.text, as: UTF8.self)
                }
                if name == Self.trName, let table = tables.last, table.depth < position { try finishRow(emit) }
                // Tables closing with it: their last rows are complete.
                while let table = tables.last, table.depth >= position { try finishTable(emit) }
                // XML elements closing: a group of named child elements becomes one record.
                for index in stack.indices[position...].reversed() where !stack[index].group.isEmpty {
                    try finishGroup(at: index, emit)
                }
                for index in position..<stack.count where stack[index].name == Self.preName { preDepth -= 1 }
                stack.removeSubrange(position...)
                contextIsCurrent = false
                // The root's end tag (`</html>`, the XML root's): the document has ended.
                hasEnded = stack.isEmpty && overflowDepth == 0
            }
            return
        }
        let selfClosing = tag.last == 0x2F || (tag.count >= 2 && tag[tag.count - 2] == 0x2F && tag.last == 0x20)
        if Self.rawTextElements.contains(name) && !selfClosing {
            state = .rawText(closing: tag[nameStart..<index].map(Bytes.lower))
            return
        }
        let rawName = format == .lcscmdXML ? String(decoding: tag[nameStart..<index], as: UTF8.self) : nil
        if let rawName, let vocabulary,
            tag.withUnsafeBytes({ vocabulary.mayNameAnEntryField(UnsafeRawBufferPointer(rebasing: $0[index...])) })
        {
            if !selfClosing, vocabulary.field(forKey: rawName) != nil, !stack.isEmpty, stack.count < Self.maximumDepth {
                // <Port transport="TCP">5062</Port>: the attributes are fields of the same group as the text.
                if !contextIsCurrent { rebuildContext() }
                for attribute in Self.attributes(tag, from: index) {
                    stack[stack.count - 1].group.append(
                        Piece(
                            bytes: Array(attribute.value.utf8), line: line.number, offset: line.byteOffset, kind: .text,
                            outcome: nil, context: context, field: attribute.name, given: true))
                }
            } else {
                try emitAttributes(of: rawName, from: index, line: line, emit)
            }
        }
        if selfClosing || Self.voidElements.contains(name) || isInline { return }
        if stack.count >= Self.maximumDepth {
            overflowDepth += 1
            return
        }
        if tables.last != nil {
            if name == Self.tableName, tables.last?.row?.buffering == true {
                // A table nested in a row: the outer row's texts go out as they are.
                try releaseRow(emit)
            } else if name == Self.trName {
                try finishRow(emit)
                tables[tables.count - 1].row = Row()
            } else if name == Self.tdName || name == Self.thName, tables[tables.count - 1].row != nil {
                tables[tables.count - 1].row?.cells.append([])
                tables[tables.count - 1].row?.cellIsHeader.append(name == Self.thName)
            }
        }
        if let candidate = headingCandidate, candidate.depth == stack.count, let parent = stack.indices.last,
            stack[parent].takesHeading, stack[parent].heading == nil
        {
            stack[parent].heading = String(decoding: candidate.text, as: UTF8.self)
        }
        headingCandidate = nil
        var element = Element(name: name, heading: nil, takesHeading: !Self.noHeading.contains(name))
        if element.takesHeading, let heading = Self.headingAttribute(tag) {
            element.heading = heading
        }
        element.rawName = rawName
        if let rawName, let vocabulary { element.isField = vocabulary.field(forKey: rawName) != nil }
        element.isFlatHeading =
            Self.headingTags.contains(name)
            || Self.hasHeadingClass(tag, from: index, classes: vocabulary?.headingClasses ?? Self.defaultHeadingClasses)
        if let vocabulary, let rawName, element.heading == nil,
            tag.withUnsafeBytes({ vocabulary.mayNameASide(UnsafeRawBufferPointer(rebasing: $0[index...])) })
        {
            // An XML element whose attribute names an Edge side heads what it holds with it
            // (<Binding scope="External"> … <Port number="5061"/>).
            let attributes = Self.attributes(tag, from: index)
            if let side = attributes.first(where: { vocabulary.field(forKey: $0.name) == .interface }) {
                element.heading = "\(rawName) \(side.name)=\(side.value)"
            }
        }
        if let parent = stack.indices.last { stack[parent].hasChildElement = true }
        // A sibling that heads itself (a task with a name, another heading) ends the flat heading before it.
        if let parent = stack.indices.last, stack[parent].flatHeading != nil,
            element.heading != nil || element.isFlatHeading
        {
            stack[parent].flatHeading = nil
            contextIsCurrent = false
        }
        if name == Self.tableName { tables.append(Table(depth: stack.count)) }
        if name == Self.preName { preDepth += 1 }
        openedElement = true
        hasEnded = false
        stack.append(element)
        contextIsCurrent = false
    }

    /// A group that grew past ``maximumHeldPieces`` goes out now (a record of its fields, or its texts).
    private mutating func capGroup(at index: Int, _ emit: (RecordDraft) throws -> Void) rethrows {
        if stack[index].group.count >= Self.maximumHeldPieces { try finishGroup(at: index, emit) }
    }

    // MARK: - Named fields

    /// An XML element whose attributes name an entry's port, protocol or program becomes one record
    /// of its own, with the attributes as its fields: `<FirewallException Name="…" Port="5061" Protocol="TCP"/>`.
    private mutating func emitAttributes(
        of element: String, from start: Int, line: Line, _ emit: (RecordDraft) throws -> Void
    ) rethrows {
        guard let vocabulary else { return }
        let attributes = vocabulary.fields(ofElement: element, attributes: Self.attributes(tag, from: start))
        guard attributes.contains(where: { vocabulary.namesEntryField($0.name) })
        else { return }
        if !contextIsCurrent { rebuildContext() }
        let text =
            elementPath(adding: element) + ": "
            + attributes.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: " ")
        var bytes = Array(text.utf8)
        if bytes.count > Self.maximumRunLength { bytes.removeSubrange(Self.maximumRunLength...) }
        let piece = Piece(
            bytes: bytes, line: line.number, offset: line.byteOffset, kind: .text, outcome: nil, context: context)
        try give(piece, emit, fields: attributes)
    }

    /// The names of the enclosing XML elements and `element`, outermost first, joined by "/"
    /// (the last three: they say what a group of fields is, "FirewallExceptions/Rule").
    private func elementPath(adding element: String? = nil) -> String {
        var names = stack.compactMap(\.rawName)
        if let element { names.append(element) }
        return names.suffix(3).joined(separator: "/")
    }

    /// Whether a tag's `class` attribute holds a heading class ("step", "task", "section"…), read
    /// on bytes (most tags of a wizard log have a class: no string is made for them).
    static func hasHeadingClass(_ tag: [UInt8], from start: Int, classes headingClasses: [[UInt8]]) -> Bool {
        tag.withUnsafeBufferPointer { bytes -> Bool in
            var search = start
            while let found = Bytes.find("class", in: bytes, from: search, ignoringCase: true) {
                search = found + 5
                guard found > 0, Bytes.isSpace(bytes[found - 1]) else { continue }
                var index = Bytes.skipSpaces(bytes, from: found + 5)
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { continue }
                index = Bytes.skipSpaces(bytes, from: index + 1)
                var quote: UInt8?
                if index < bytes.count, bytes[index] == 0x22 || bytes[index] == 0x27 {
                    quote = bytes[index]
                    index += 1
                }
                // Each word of the value (split at spaces, '-' and '_') against the heading classes.
                var wordStart = index
                while index <= bytes.count {
                    let atEnd =
                        index == bytes.count || bytes[index] == quote || (quote == nil && Bytes.isSpace(bytes[index]))
                    let separator =
                        atEnd || Bytes.isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "-")
                        || bytes[index] == UInt8(ascii: "_")
                    if separator {
                        let word = UnsafeBufferPointer(rebasing: bytes[wordStart..<index])
                        for heading in headingClasses
                        where word.count == heading.count && zip(word, heading).allSatisfy({ Bytes.lower($0) == $1 }) {
                            return true
                        }
                        wordStart = index + 1
                    }
                    if atEnd { break }
                    index += 1
                }
                return false
            }
            return false
        }
    }

    /// `name="value"` pairs of a tag (after its name), values decoded.
    static func attributes(_ tag: [UInt8], from start: Int) -> [RecordField] {
        var found: [RecordField] = []
        var index = start
        while index < tag.count {
            while index < tag.count, Bytes.isSpace(tag[index]) || tag[index] == 0x2F { index += 1 }
            let nameStart = index
            while index < tag.count, !Bytes.isSpace(tag[index]), tag[index] != 0x3D, tag[index] != 0x2F { index += 1 }
            guard index > nameStart else { break }
            let name = String(decoding: tag[nameStart..<index], as: UTF8.self)
            while index < tag.count, Bytes.isSpace(tag[index]) { index += 1 }
            guard index < tag.count, tag[index] == 0x3D else { continue }
            index += 1
            while index < tag.count, Bytes.isSpace(tag[index]) { index += 1 }
            var value: ArraySlice<UInt8> = []
            if index < tag.count, tag[index] == 0x22 || tag[index] == 0x27 {
                let quote = tag[index]
                let end = tag[(index + 1)...].firstIndex(of: quote) ?? tag.count
                value = tag[(index + 1)..<end]
                index = min(end + 1, tag.count)
            } else {
                let end = tag[index...].firstIndex(where: { Bytes.isSpace($0) }) ?? tag.count
                value = tag[index..<end]
                index = end
            }
            var decoded: [UInt8] = []
            Entities.decode(value, into: &decoded)
            found.append(RecordField(name: name, value: String(decoding: decoded, as: UTF8.self).trimmingSpaces()))
            if found.count >= 32 { break }
        }
        return found
    }

    /// An XML element closes: when its child elements named an entry's port, protocol or program
    /// (`<Rule><Port>5061</Port><Protocol>UDP</Protocol></Rule>`), they become one record with those
    /// fields; otherwise their texts go out as ordinary records.
    private mutating func finishGroup(at index: Int, _ emit: (RecordDraft) throws -> Void) rethrows {
        let pieces = stack[index].group
        stack[index].group = []
        guard let vocabulary, let first = pieces.first else { return }
        let isEntry = pieces.contains { piece in
            piece.field.map(vocabulary.namesEntryField) ?? false
        }
        guard isEntry else {
            for piece in pieces where !piece.given { try give(piece, emit) }
            return
        }
        let fields = pieces.filter { $0.field != nil }.map {
            RecordField(name: $0.field ?? "", value: String(decoding: $0.bytes, as: UTF8.self))
        }
        var names = stack[...index].compactMap(\.rawName).suffix(3).joined(separator: "/")
        if names.isEmpty { names = "entry" }
        let text = names + ": " + fields.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: " ")
        var piece = first
        piece.bytes = Array(text.utf8.prefix(Self.maximumRunLength))
        piece.kind = .text
        piece.outcome = nil
        piece.context = pieces[0].context
        try give(piece, emit, fields: fields)
    }

    // MARK: - Tables

    /// The texts of the row being read go out as they are, and the rest of the row is not held.
    private mutating func releaseRow(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard let row = tables.last?.row, row.buffering else { return }
        tables[tables.count - 1].row?.buffering = false
        tables[tables.count - 1].row?.cells = []
        for piece in row.cells.joined() { try give(piece, emit) }
    }

    /// A table row is complete. The first row of a table is its header when it names columns (all
    /// `<th>`, or cells that are field names); each later row then becomes one record whose fields are
    /// its cells named by the header. A row of single-text cells in a table without a header becomes
    /// one record, its cells joined by " | ". Anything else goes out text by text, as read.
    private mutating func finishRow(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard var table = tables.last, let row = table.row else { return }
        table.row = nil
        defer {
            table.rows += 1
            tables[tables.count - 1] = table
        }
        guard row.buffering else { return }
        let pieces = Array(row.cells.joined())
        guard let first = pieces.first else { return }
        let texts = row.cells.map { cell in
            cell.map { String(decoding: $0.bytes, as: UTF8.self) }.joined(separator: " ")
        }
        // A key and its value: <tr><td>Local port</td><td>443</td></tr>, one table (or run of rows) per entry.
        if table.header == nil, texts.count == 2, row.cells.allSatisfy({ $0.count <= 1 }), !texts[1].isEmpty,
            let vocabulary, vocabulary.field(forKey: texts[0]) != nil, vocabulary.field(forKey: texts[1]) == nil,
            let valuePiece = row.cells[1].first
        {
            var piece = valuePiece
            piece.field = texts[0]
            piece.context = first.context
            table.pairs.append(piece)
            table.pairRows.append((texts.joined(separator: " | "), first))
            if table.pairs.count >= Self.maximumHeldPieces { try flushPairs(&table, emit) }
            return
        }
        if !table.pairs.isEmpty { try flushPairs(&table, emit) }
        if table.header == nil, table.rows == 0, isHeader(texts, allHeaderCells: row.cellIsHeader.allSatisfy { $0 }) {
            table.header = texts
            return
        }
        if let header = table.header, texts.count >= 2 {
            var fields: [RecordField] = []
            for (column, value) in texts.enumerated() where !value.isEmpty {
                fields.append(
                    RecordField(name: column < header.count ? header[column] : "column \(column + 1)", value: value))
            }
            let text = fields.map { "\($0.name): \($0.value)" }.joined(separator: "; ")
            try emitRow(text, first: first, fields: fields, emit)
            return
        }
        if texts.count >= 2, row.cells.allSatisfy({ $0.count <= 1 }), pieces.count >= 2 {
            try emitRow(texts.filter { !$0.isEmpty }.joined(separator: " | "), first: first, fields: [], emit)
            return
        }
        for piece in pieces { try give(piece, emit) }
    }

    /// The key/value rows read so far become one record with those fields when they name an entry's
    /// port, protocol or program; otherwise each row goes out as it would have.
    private func flushPairs(_ table: inout Table, _ emit: (RecordDraft) throws -> Void) rethrows {
        let pairs = table.pairs
        let rows = table.pairRows
        table.pairs = []
        table.pairRows = []
        guard let vocabulary, let first = rows.first?.first else { return }
        let isEntry = pairs.contains { piece in
            piece.field.map(vocabulary.namesEntryField) ?? false
        }
        guard isEntry else {
            for row in rows { try emitRow(row.text, first: row.first, fields: [], emit) }
            return
        }
        let fields = pairs.map { RecordField(name: $0.field ?? "", value: String(decoding: $0.bytes, as: UTF8.self)) }
        try emitRow(
            fields.map { "\($0.name): \($0.value)" }.joined(separator: "; "), first: first, fields: fields, emit)
    }

    /// A table ends: its last row, and key/value rows still held, go out.
    private mutating func finishTable(_ emit: (RecordDraft) throws -> Void) rethrows {
        try finishRow(emit)
        guard var table = tables.popLast() else { return }
        if !table.pairs.isEmpty { try flushPairs(&table, emit) }
    }

    private func emitRow(_ text: String, first: Piece, fields: [RecordField], _ emit: (RecordDraft) throws -> Void)
        rethrows
    {
        var piece = first
        piece.bytes = Array(text.utf8.prefix(Self.maximumRunLength))
        (piece.kind, piece.outcome) = piece.bytes.withUnsafeBufferPointer { Self.classify(bytes: $0) }
        try give(piece, emit, fields: fields)
    }

    /// Whether a table's first row names its columns: at least one cell is a field name, and the
    /// cells are `<th>` or at least two are field names and none holds a digit.
    private func isHeader(_ texts: [String], allHeaderCells: Bool) -> Bool {
        guard let vocabulary, texts.count >= 2 else { return false }
        let named = texts.filter { vocabulary.field(forKey: $0) != nil }.count
        guard named >= 1 else { return false }
        if allHeaderCells { return true }
        return named >= 2 && !texts.contains { $0.contains(where: \.isNumber) || $0.count > 40 }
    }

    /// `Key: value` or `Key = value` with a key the vocabulary knows: the key and where the value starts.
    private func keyValueItem(_ bytes: [UInt8]) -> (String, Int)? {
        guard let vocabulary,
            let separator = bytes.prefix(40).firstIndex(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "=") }),
            separator > 0
        else { return nil }
        let key = String(decoding: bytes[..<separator], as: UTF8.self).trimmingSpaces()
        guard vocabulary.field(forKey: key) != nil else { return nil }
        var valueStart = separator + 1
        while valueStart < bytes.count, bytes[valueStart] == 0x20 { valueStart += 1 }
        guard valueStart < bytes.count else { return nil }
        return (key, valueStart)
    }

    /// Gives out a held text as a record.
    private func give(_ piece: Piece, _ emit: (RecordDraft) throws -> Void, fields: [RecordField] = []) rethrows {
        try (fields.isEmpty ? piece.whole ?? piece.bytes : piece.bytes).withUnsafeBufferPointer { buffer in
            var draft = RecordDraft(
                bytes: buffer, path: path, line: piece.line, byteOffset: piece.offset, format: format,
                kind: piece.kind, context: piece.context, clock: nil, inRollback: false, outcome: piece.outcome,
                number: nil, event: nil)
            draft.fields = fields
            try emit(draft)
        }
    }

    /// The value of a `name`, `title`, `displayname` or `description` attribute, decoded.
    private static func headingAttribute(_ tag: [UInt8]) -> String? {
        let lowered = tag.map(Bytes.lower)
        for attribute in ["name", "displayname", "title", "description"] {
            let key = Array((attribute + "=").utf8)
            var search = 0
            while let found = firstRange(of: key, in: lowered, from: search) {
                search = found + 1
                // It must be a whole attribute name.
                guard found > 0, Bytes.isSpace(lowered[found - 1]) else { continue }
                var index = found + key.count
                guard index < tag.count else { break }
                let quote = tag[index]
                var value: ArraySlice<UInt8>
                if quote == 0x22 || quote == 0x27 {
                    index += 1
                    let end = tag[index...].firstIndex(of: quote) ?? tag.count
                    value = tag[index..<end]
                } else {
                    let end = tag[index...].firstIndex(where: { Bytes.isSpace($0) || $0 == 0x2F }) ?? tag.count
                    value = tag[index..<end]
                }
                var decoded: [UInt8] = []
                Entities.decode(value, into: &decoded)
                let text = String(decoding: decoded, as: UTF8.self).trimmingSpaces()
                if !text.isEmpty { return text }
            }
        }
        return nil
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = from
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0], Array(haystack[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }

    // MARK: - Text

    /// Gives out the text run read so far (a live log went quiet in the middle of an element).
    mutating func flushPending(_ emit: (RecordDraft) throws -> Void) rethrows {
        if case .text = state { try flushText(emit) }
    }

    private mutating func flushText(_ emit: (RecordDraft) throws -> Void) rethrows {
        guard !text.isEmpty else { return }
        decoded.removeAll(keepingCapacity: true)
        Entities.decode(text[...], into: &decoded)
        text.removeAll(keepingCapacity: true)
        Self.collapseSpaces(decoded, into: &collapsed)
        guard !collapsed.isEmpty else { return }
        let (kind, outcome) = collapsed.withUnsafeBufferPointer { Self.classify(bytes: $0) }
        if documentTitle == nil, stack.last?.name == Self.titleName {
            documentTitle = String(decoding: collapsed, as: UTF8.self)
            contextIsCurrent = false
        }
        if !contextIsCurrent { rebuildContext() }
        let enclosing = context
        if stack.last?.isFlatHeading == true || vocabulary?.startsWithHeadingLabel(collapsed) == true
            || vocabulary?.namesFirewallSection(collapsed) == true
        {
            var kept = lastText?.text ?? []
            kept.removeAll(keepingCapacity: true)
            kept.append(contentsOf: collapsed.prefix(Self.maximumHeadingLength))
            lastText = (kept, stack.count)
        } else {
            lastText = nil
        }
        // A text directly followed by a child element is that element's parent's heading
        // ("<li>Add firewall exceptions<ul>…", "<div><span>Task</span><div>…"); remember it until we know
        // (as bytes: most texts never become a heading).
        if kind == .executionResult {
            headingCandidate = nil
        } else {
            var candidate = headingCandidate?.text ?? []
            headingCandidate = nil
            candidate.removeAll(keepingCapacity: true)
            candidate.append(contentsOf: collapsed.prefix(Self.maximumHeadingLength))
            headingCandidate = (candidate, stack.count)
        }
        // A text in a table row, or the text of an XML element that names a field, is held until
        // the row or the enclosing element is complete.
        if vocabulary != nil {
            // A list of "Key: value" items: <ul><li>Protocol: TCP</li><li>Local port: 443</li></ul> is one group.
            if stack.count >= 2, stack[stack.count - 1].name == Self.liName,
                stack[stack.count - 2].name == Self.ulName || stack[stack.count - 2].name == Self.olName,
                let (key, valueStart) = keyValueItem(collapsed)
            {
                stack[stack.count - 2].group.append(
                    Piece(
                        bytes: Array(collapsed[valueStart...]), line: textLine, offset: textOffset, kind: kind,
                        outcome: outcome, context: enclosing, field: key, whole: collapsed))
                try capGroup(at: stack.count - 2, emit)
                return
            }
            // A definition list's term names the description after it: <dl><dt>Port</dt><dd>5061</dd>…
            if stack.count >= 2, stack[stack.count - 2].name == Self.dlName {
                if stack[stack.count - 1].name == Self.dtName {
                    stack[stack.count - 2].term = String(decoding: collapsed, as: UTF8.self)
                    stack[stack.count - 2].group.append(
                        Piece(
                            bytes: collapsed, line: textLine, offset: textOffset, kind: kind, outcome: outcome,
                            context: enclosing))
                    try capGroup(at: stack.count - 2, emit)
                    return
                }
                if stack[stack.count - 1].name == Self.ddName {
                    stack[stack.count - 2].group.append(
                        Piece(
                            bytes: collapsed, line: textLine, offset: textOffset, kind: kind, outcome: outcome,
                            context: enclosing, field: stack[stack.count - 2].term ?? ""))
                    try capGroup(at: stack.count - 2, emit)
                    return
                }
            }
            if format == .lcscmdXML, stack.count >= 2, stack[stack.count - 1].isField {
                let fieldName = stack[stack.count - 1].rawName
                let isName = fieldName.flatMap { vocabulary?.field(forKey: $0) } == .name
                var piece = Piece(
                    bytes: collapsed, line: textLine, offset: textOffset, kind: kind, outcome: outcome,
                    context: enclosing, field: fieldName)
                // <Task><Name>Add firewall exceptions</Name>…: a name heads its element at once (the
                // element's other records are in its context); the text itself waits for the group.
                if isName, stack[stack.count - 2].heading == nil {
                    stack[stack.count - 2].heading = String(decoding: collapsed, as: UTF8.self)
                    contextIsCurrent = false
                    piece.context = enclosing
                }
                stack[stack.count - 2].group.append(piece)
                try capGroup(at: stack.count - 2, emit)
                return
            }
            let last = tables.count - 1
            if last >= 0, tables[last].row?.buffering == true, tables[last].row?.cells.isEmpty == false,
                stack.count > tables[last].depth
            {
                // Appended in place (no copy of the row per text), and a row that holds too much goes out as read.
                if tables[last].row?.pieces ?? 0 >= Self.maximumHeldPieces {
                    try releaseRow(emit)
                } else {
                    let cell = (tables[last].row?.cells.count ?? 1) - 1
                    tables[last].row?.cells[cell].append(
                        Piece(
                            bytes: collapsed, line: textLine, offset: textOffset, kind: kind, outcome: outcome,
                            context: enclosing))
                    tables[last].row?.pieces += 1
                    return
                }
            }
        }
        try collapsed.withUnsafeBufferPointer { buffer in
            try emit(
                RecordDraft(
                    bytes: buffer, path: path, line: textLine, byteOffset: textOffset, format: format, kind: kind,
                    context: enclosing, clock: nil, inRollback: false, outcome: outcome, number: nil, event: nil))
        }
    }

    /// The longest text kept as a heading candidate.
    static let maximumHeadingLength = 512
    /// The most texts a table row, a key/value table or a group of named elements holds before they
    /// go out as read: memory stays bounded when a log never closes them.
    static let maximumHeldPieces = 256

    private mutating func rebuildContext() {
        var headings: [String] = []
        if let documentTitle, stack.last?.name != Self.titleName { headings.append(documentTitle) }
        for element in stack {
            if let heading = element.heading, headings.last != heading { headings.append(heading) }
            if let flat = element.flatHeading, headings.last != flat { headings.append(flat) }
        }
        context = headings
        contextIsCurrent = true
    }

    /// Spaces, tabs and line breaks collapsed to one space; leading and trailing ones dropped.
    private static func collapseSpaces(_ bytes: [UInt8], into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        var pendingSpace = false
        for byte in bytes {
            if Bytes.isSpace(byte) {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(0x20) }
                pendingSpace = false
                output.append(byte)
            }
        }
    }

    /// Whether a text run is a task's Execution Result, and its outcome.
    ///
    /// Numbers over words: a bracketed `[0x……]` code is a failure in any language; `<Success>`,
    /// "Execution Result" and "Task status" mark a result in the English logs.
    static func classify(_ text: String) -> (RecordKind, Outcome?) {
        var copy = text
        return copy.withUTF8 { classify(bytes: $0) }
    }

    /// The same on bytes (no Foundation string search per text run).
    static func classify(bytes: UnsafeBufferPointer<UInt8>) -> (RecordKind, Outcome?) {
        let code = bracketedCode(bytes)
        func has(_ word: StaticString) -> Bool { Bytes.find(word, in: bytes, ignoringCase: true) != nil }
        let isResult =
            code != nil || has("execution result") || has("task status") || has("<success>")
            || (bytes.count == 7 && Bytes.hasPrefix(bytes, "success", ignoringCase: true))
        guard isResult else { return (.text, nil) }
        if let code { return (.executionResult, .failure(code: code)) }
        if has("fail") || has("error") { return (.executionResult, .failure(code: nil)) }
        if has("success") || has("completed") { return (.executionResult, .success) }
        return (.executionResult, nil)
    }

    /// `0xC3EC796C` from `Failure [0xC3EC796C] …`, normalized to upper-case hex.
    static func bracketedCode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var from = 0
        while let open = Bytes.find("[0x", in: bytes, from: from, ignoringCase: true) {
            from = open + 1
            let start = open + 3
            guard start + 9 <= bytes.count, bytes[start + 8] == 0x5D else { continue }
            let digits = UnsafeBufferPointer(rebasing: bytes[start..<(start + 8)])
            guard
                digits.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || (Bytes.lower($0) >= 0x61 && Bytes.lower($0) <= 0x66) }
                )
            else {
                continue
            }
            return "0x" + String(decoding: digits, as: UTF8.self).uppercased()
        }
        return nil
    }
}

extension String {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }

}

/// HTML and XML character references: the five XML entities, `&nbsp;` and a few common HTML
/// names, and numeric references. Unknown names are kept as written; nothing is ever expanded
/// recursively.
enum Entities {
    private static let named: [String: String] = [
        "lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "trade": "™", "hellip": "…", "ndash": "–", "mdash": "—", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
        "auml": "ä", "ouml": "ö", "uuml": "ü", "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "szlig": "ß", "eacute": "é",
        "egrave": "è", "agrave": "à", "ccedil": "ç",
    ]

    static func decode(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == 0x26 else {
                output.append(byte)
                index += 1
                continue
            }
            // Find ";" within 12 bytes.
            var end = index + 1
            while end < bytes.endIndex, end - index <= 12, bytes[end] != 0x3B, bytes[end] != 0x26,
                !Bytes.isSpace(bytes[end])
            {
                end += 1
            }
            guard end < bytes.endIndex, bytes[end] == 0x3B, end > index + 1 else {
                output.append(byte)
                index += 1
                continue
            }
            let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
            if let scalar = numericReference(name) {
                output.append(contentsOf: String(Character(scalar)).utf8)
            } else if let replacement = named[name] {
                output.append(contentsOf: replacement.utf8)
            } else {
                output.append(contentsOf: bytes[index...end])
            }
            index = end + 1
        }
    }

    private static func numericReference(_ name: String) -> Unicode.Scalar? {
        guard name.hasPrefix("#") else { return nil }
        let digits = name.dropFirst()
        let value: UInt32?
        if digits.hasPrefix("x") || digits.hasPrefix("X") {
            value = UInt32(digits.dropFirst(), radix: 16)
        } else {
            value = UInt32(digits, radix: 10)
        }
        guard let value, value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return scalar
    }
}

extension Entities {
    /// A string with its character references decoded.
    static func decode(_ text: String) -> String {
        var output: [UInt8] = []
        decode(Array(text.utf8)[...], into: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
