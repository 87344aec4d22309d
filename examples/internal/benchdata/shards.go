package benchdata

// LogitBlock is the number of rows per block of psm's logit partials
// (psm.LogitRows): psm.FitLogitShards is bit-identical to psm.FitLogit
// when every shard starts at a multiple of it.
const LogitBlock = 4096

// ShardBounds returns the bounds of s contiguous shards of n units
// (shard k holds units bounds[k] to bounds[k+1]-1): whole blocks of 4096
// units, as even as possible, when there are at least s blocks
// (aligned), else n·k/s. Cost: O(s).
func ShardBounds(n, s int) (bounds []int, aligned bool) {
	bounds = make([]int, s+1)
	blocks := (n + LogitBlock - 1) / LogitBlock
	aligned = blocks >= s
	for k := 1; k < s; k++ {
		if aligned {
			bounds[k] = blocks * k / s * LogitBlock
		} else {
			bounds[k] = n * k / s
		}
	}
	bounds[s] = n
	return bounds, aligned
}
