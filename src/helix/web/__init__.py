"""Server-rendered pages of the Helix app."""
