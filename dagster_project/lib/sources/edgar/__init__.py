"""SEC EDGAR: point-in-time GAAP fundamentals from XBRL companyfacts.

``companyfacts`` parses EDGAR's JSON into fact versions (every filing's figure for every
period, append-only) and derives point-in-time quarterly earnings and shares from them;
``files`` reads companyfacts files from a folder (the files source); ``client`` fetches
them live from SEC, politely (declared User-Agent, at most 10 requests a second, an HTTP
cache, retries). Nothing here touches the warehouse.
"""
