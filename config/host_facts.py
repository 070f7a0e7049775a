"""Host facts every layer agrees on, declared once: where Boond's API lives, which Salesforce API version we speak.

A tenant may override either (its settings); these are the defaults, and the connectors' own defaults are these.
"""

BOOND_API_URL = "https://ui.boondmanager.com/api"  # https://doc.boondmanager.com/api-externe/ (base of every path)
SALESFORCE_API_VERSION = "v67.0"  # /services/data/<version>/ (Spring '26); a tenant may pin another it has tested
