"""The Flask extensions, as bare objects; create_app binds them to an app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from portal.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# remote_addr is the real client only after ProxyFix has been told how many proxies to trust
# (TRUSTED_PROXY_COUNT); an X-Forwarded-For that anyone can send is never read directly.
limiter = Limiter(key_func=get_remote_address)
