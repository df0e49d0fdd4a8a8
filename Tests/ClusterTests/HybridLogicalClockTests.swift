import Cluster
import Testing

@Suite struct HybridLogicalClockTests {
    @Test func valuesOnlyGrow() {
        let clock = HybridLogicalClock()
        var last = clock.next()
        for _ in 0..<10_000 {
            let value = clock.next()
            #expect(value > last)
            last = value
        }
    }

    @Test func observedValuesFromAFastClockAreOvertaken() {
        let clock = HybridLogicalClock()
        let remote = HybridLogicalClock.physical() + (5_000 << 16)  // a host five seconds ahead
        clock.observe(remote)
        #expect(clock.next() > remote)
    }

    @Test func wallTimeIsInTheHighBits() {
        let value = HybridLogicalClock().next()
        let milliseconds = HybridLogicalClock.milliseconds(of: value)
        #expect(milliseconds > 1_700_000_000_000)
    }
}
