"""POST /api/v1/scans: batches of badge scans from stations.

PLACEHOLDER for the station issue: the colleague building scan recording replaces the body
of ``post_scans`` (keep ``@station_required``: ``g.station`` is the calling station). Until
then the endpoint authenticates the station and answers 501.
"""

from __future__ import annotations

from web.api import bp
from web.api.auth import station_required
from web.errors import ApiError


@bp.route("/scans", methods=["POST"])
@station_required
def post_scans():
    raise ApiError(501, "scan upload is not implemented yet")
