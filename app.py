"""Composition root: the Chalice app, its middleware and its blueprints — nothing else.

Each feature lives in ``chalicelib/<feature>/`` with its routes (``views``) and its schedules,
queue consumers and Lambda functions (``handlers``) each in a blueprint;
Chalice deploys every ``@lambda_function``, ``@schedule`` and queue consumer found here as its
own Lambda function named ``yuqing-<stage>-<name>``.
"""

from chalice import Chalice

from chalicelib.alerts.handlers import bp as alerts_worker_bp
from chalicelib.alerts.views import bp as alerts_bp
from chalicelib.auth.views import bp as auth_bp
from chalicelib.briefings.handlers import bp as briefings_worker_bp
from chalicelib.briefings.models import DOCX_TYPE
from chalicelib.briefings.views import bp as briefings_bp
from chalicelib.core import middleware
from chalicelib.dashboard.views import bp as dashboard_bp
from chalicelib.drills.handlers import bp as drills_worker_bp
from chalicelib.drills.views import bp as drills_bp
from chalicelib.exports.models import XLSX_TYPE
from chalicelib.health.handlers import bp as health_worker_bp
from chalicelib.health.views import bp as health_bp
from chalicelib.incidents.handlers import bp as incidents_worker_bp
from chalicelib.incidents.views import bp as incidents_bp
from chalicelib.plan.views import bp as plan_bp
from chalicelib.reports.views import bp as reports_bp
from chalicelib.sources.handlers import bp as sources_worker_bp
from chalicelib.sources.views import bp as sources_bp
from chalicelib.trends.views import bp as trends_bp
from chalicelib.workflow.handlers import bp as workflow_bp

app = Chalice(app_name="yuqing")
# Word documents (briefings, reports) and Excel exports (lists) are binary: base64 through API
# Gateway and Chalice.
app.api.binary_types.extend((DOCX_TYPE, XLSX_TYPE))
middleware.register(app)
app.register_blueprint(health_bp)
app.register_blueprint(health_worker_bp)
app.register_blueprint(auth_bp)
app.register_blueprint(workflow_bp)
app.register_blueprint(plan_bp)
app.register_blueprint(alerts_bp)
app.register_blueprint(alerts_worker_bp)
app.register_blueprint(sources_bp)
app.register_blueprint(sources_worker_bp)
app.register_blueprint(incidents_bp)
app.register_blueprint(incidents_worker_bp)
app.register_blueprint(reports_bp)
app.register_blueprint(drills_bp)
app.register_blueprint(drills_worker_bp)
app.register_blueprint(trends_bp)
app.register_blueprint(dashboard_bp)
app.register_blueprint(briefings_bp)
app.register_blueprint(briefings_worker_bp)
