"""Study 3, value: RFM, segments, pyramids, value x risk (``tiers``) and the CLV models (``clv``)."""
