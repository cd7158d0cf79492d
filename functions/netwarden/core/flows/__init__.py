"""Flow sets: exact sets of (protocol, source, destination, ports) as unions of boxes (``algebra``),
with the two shortcuts the impact analysis needs at scale (``shortcuts``). Every layer's verdict is
spoken in them."""
