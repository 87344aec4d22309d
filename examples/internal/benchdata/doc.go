// Package benchdata holds the synthetic data of the examples that run
// the pipeline at scale (examples/bench, examples/shard): the population
// size and thinning for a number of persons and treated
// (PopulationOptions), the event-time design with its covariate list
// (Design), and the contiguous unit shards of a sharded run
// (ShardBounds).
package benchdata
