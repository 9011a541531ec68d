"""The one way text is folded for search: what a person types and what is stored meet here.

People type names the way their keyboard lets them: "YILMAZ", "yilmaz", "Yılmaz" and
"yılmaz" must all find Yılmaz, as "sahin" finds Şahin. Python's lower() is wrong for Turkish
both ways ('I'.lower() is 'i', not 'ı'; 'İ'.lower() is 'i' with a combining dot) and so is
the databases' own lower() in a non-Turkish collation, so nothing is left to either: a value
is folded here, once, when it is stored (a `*_folded` column beside the original), and every
query folds the typed words the same way before comparing.

Folding: compatibility decomposition (NFKD, so full-width letters and ligatures become plain
ones), every combining mark dropped (ş→s, ğ→g, ç→c, ö→o, ü→u, İ→I, é→e), the dotless ı made
i, then casefold(). The result is what is indexed; it is never shown.
"""

import unicodedata

# The one Turkish letter without a decomposition: its plain form is the dotted one.
_DOTLESS = str.maketrans({"ı": "i"})


def fold(text: str) -> str:
    """`text` as search compares it: Turkish letters and case folded both ways."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_DOTLESS).casefold()
