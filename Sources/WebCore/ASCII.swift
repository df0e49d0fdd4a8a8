extension UInt8 {
    /// The byte with an ASCII capital letter lowered; every other byte as it is. HTTP names
    /// (headers, media types) compare this way, byte by byte, without building strings.
    public var asciiLowercased: UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) ? self | 0x20 : self }
}
