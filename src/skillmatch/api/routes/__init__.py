"""The API's endpoints, one module per concept; each is an APIRouter that `server` mounts
under /v1."""
