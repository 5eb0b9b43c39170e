"""stats: the sector's figures — data elements, observations, indicators, the engine, the review."""
