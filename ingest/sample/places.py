"""Stockton-on-Tees LSOAs, wards and streets, and the neighbours in Cleveland's police.uk file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from random import Random

AREA = ("E06000004", "Stockton-on-Tees")

# --------------------------------------------------------------------------------------
# Places

# Stockton-on-Tees LSOAs as police.uk names them (code E01xxxxxx: name suffix)
_STOCKTON_LSOAS = """
012187:011A 012188:011B 012189:011C 012190:015A 012191:015B 012192:007A 012193:007B
012194:010A 012195:010B 012196:003A 012197:002A 012198:003B 012199:021A 012200:021B
012201:021C 012202:021D 012203:021E 012204:013A 012205:011D 012206:013B 012207:013C
012208:013D 012209:016A 012210:006A 012211:006B 012212:006C 012213:006D 012214:003C
012215:003D 012216:003E 012217:016B 012218:016C 012219:012A 012223:016D 012224:015C
012225:015D 012226:015E 012227:023A 012228:022A 012230:022B 012231:023C 012232:023D
012233:022C 012234:023E 012235:024A 012236:022D 012237:022E 012238:018A 012239:018B
012240:018C 012241:018D 012242:001A 012243:001B 012244:001C 012245:003F 012246:001D
012247:008A 012248:009D 012249:008B 012250:009E 012251:012B 012252:012C 012253:012D
012254:012E 012255:005A 012256:002B 012257:002C 012258:010C 012259:010D 012260:007C
012261:007D 012262:014A 012264:014C 012266:014E 012267:014F 012268:010E 012269:005B
012270:021F 012271:008C 012272:008D 012273:008E 012274:008F 012275:002D 012276:002E
012277:002F 012278:004A 012279:004B 012280:004C 012281:004D 012282:020A 012283:020B
012284:020C 012285:020D 012286:017A 012287:017B 012288:017C 012289:017D 012290:019A
012291:019B 012292:019C 012294:005D 012295:005E 012296:001E 012297:001F 012298:024B
012299:024C 012300:024D 012301:024E 012302:024F 012303:024G 032542:009F 032543:009G
032544:009H 033474:023F 033475:023G 033476:005F 033477:014G 033478:023H 033479:023I
033480:005G
"""
_TOWN_CENTRES = ("014E", "014G", "014A", "002E", "020C")
# neighbours in the same police.uk force file: name, first code, LSOAs, lon/lat box
_NEIGHBOURS = (
    ("Hartlepool", 11952, 58, (-1.27, -1.17, 54.65, 54.72)),
    ("Middlesbrough", 12010, 88, (-1.29, -1.17, 54.51, 54.58)),
    ("Redcar and Cleveland", 12098, 88, (-1.17, -0.80, 54.52, 54.62)),
)
_STOCKTON_BOX = (-1.42, -1.25, 54.49, 54.64)

WARDS = (
    "Billingham Central", "Billingham East", "Billingham North", "Billingham South",
    "Billingham West", "Bishopsgarth and Elm Tree", "Eaglescliffe", "Fairfield",
    "Grangefield", "Hardwick", "Hartburn", "Ingleby Barwick East", "Ingleby Barwick West",
    "Mandale and Victoria", "Newtown", "Northern Parishes", "Norton North", "Norton South",
    "Norton West", "Parkfield and Oxbridge", "Roseworth", "Stainsby Hill",
    "Stockton Town Centre", "Village", "Western Parishes", "Yarm",
)  # fmt: skip
STREETS = (
    "Supermarket", "Parking Area", "High Street", "Shopping Area", "Petrol Station",
    "Sports/Recreation Area", "Yarm Road", "Bridge Road", "Dovecot Street", "Church Road",
    "Station Road", "Durham Road", "Norton Road", "Bishopton Road", "Thornaby Road",
    "Finkle Street", "Lawson Street", "Dean Street", "Mandale Road", "Lanehouse Road",
    "Hardwick Road", "Marsh House Avenue", "Park Road", "Oxbridge Lane", "Green Lane",
)  # fmt: skip


@dataclass(frozen=True)
class Lsoa:
    code: str
    name: str
    lon: float
    lat: float


def _in_box(rng: Random, box: tuple[float, float, float, float]) -> tuple[float, float]:
    return rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3])


def stockton_lsoas(rng: Random) -> list[Lsoa]:
    lsoas = []
    for token in _STOCKTON_LSOAS.split():
        code, suffix = token.split(":")
        lon, lat = _in_box(rng, _STOCKTON_BOX)
        lsoas.append(Lsoa(f"E01{code}", f"{AREA[1]} {suffix}", lon, lat))
    return lsoas


def neighbour_lsoas(rng: Random) -> list[Lsoa]:
    lsoas = []
    for name, first, n, box in _NEIGHBOURS:
        for i in range(n):
            lon, lat = _in_box(rng, box)
            suffix = f"{i // 4 + 1:03d}{'ABCD'[i % 4]}"
            lsoas.append(Lsoa(f"E01{first + i:06d}", f"{name} {suffix}", lon, lat))
    return lsoas


def lsoa_weights(rng: Random, lsoas: Sequence[Lsoa]) -> list[float]:
    """Skewed: a few town-centre LSOAs see many times the borough's typical volume."""
    return [
        rng.paretovariate(2.5) * (8 if lsoa.name[-4:] in _TOWN_CENTRES else 1) for lsoa in lsoas
    ]
