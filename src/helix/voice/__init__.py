"""Voice of the customer: NPS and CSAT with honest intervals, themes, closed-loop follow-up.

* :mod:`helix.voice.nps`: NPS (0-10) and CSAT (1-5) over time and by segment;
* :mod:`helix.voice.themes`: themes of survey comments and ticket texts (TF-IDF + NMF),
  with their trend, examples and sentiment;
* :mod:`helix.voice.closed_loop`: every detractor gets a follow-up within the SLA.
"""
