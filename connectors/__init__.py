"""One package per accounting system, all behind the small interface in `connectors.contract`."""
