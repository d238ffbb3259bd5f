//! Small SQL helpers shared by statistics and samples.
