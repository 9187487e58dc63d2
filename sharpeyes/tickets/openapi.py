"""OpenAPI 3.0 description of the API, served at /openapi.json."""

from __future__ import annotations

from typing import Any

from sharpeyes.tickets.lifecycle import CAUSE_CATEGORIES
from sharpeyes.tickets.models import STATES


def _err(desc: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/Error"}
    return {"description": desc, "content": {"application/json": {"schema": schema}}}


def _ticket_ref() -> dict[str, Any]:
    return {"description": "The ticket with alerts and history",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TicketDetail"}}}}


ACTION_BODIES: dict[str, dict[str, Any]] = {
    "acknowledge": {"type": "object", "additionalProperties": False,
                    "properties": {"note": {"type": "string"}}},
    "start": {"type": "object", "additionalProperties": False, "properties": {"note": {"type": "string"}}},
    "comment": {"type": "object", "additionalProperties": False, "required": ["text"],
                "properties": {"text": {"type": "string", "minLength": 1}}},
    "close": {"type": "object", "additionalProperties": False, "required": ["cause_category", "note"],
              "properties": {"cause_category": {"type": "string", "enum": list(CAUSE_CATEGORIES)},
                             "parts_replaced": {"type": "array", "items": {"type": "string"}},
                             "note": {"type": "string", "minLength": 1}}},
    "reopen": {"type": "object", "additionalProperties": False, "required": ["reason"],
               "properties": {"reason": {"type": "string", "minLength": 1}}},
    "arrive": {"type": "object", "additionalProperties": False, "properties": {"note": {"type": "string"}}},
    "approve": {"type": "object", "additionalProperties": False, "properties": {"note": {"type": "string"}}},
    "reject": {"type": "object", "additionalProperties": False, "required": ["reason"],
               "properties": {"reason": {"type": "string", "minLength": 1}}},
    "assign": {"type": "object", "additionalProperties": False,
               "properties": {"assignee": {"type": "string", "description": "username; empty: unassign"}}},
}
ACTION_SUMMARY = {
    "acknowledge": "Acknowledge (stops the response clock) / 响应确认",
    "start": "Start work (in progress) / 开始处理",
    "comment": "Add a comment / 备注",
    "close": "Close with a repair note; only when no alert is firing / 填写维修记录并关闭",
    "reopen": "Reopen a resolved or closed ticket / 重开",
    "arrive": "Technician arrived on site (in progress) / 到场",
    "approve": "Supervisor approves a closure / 验收通过",
    "reject": "Supervisor rejects a closure: back in progress with the reason / 验收驳回",
    "assign": "Contractor manager assigns the ticket to a technician / 派单",
}


def _filters(keys: list[str]) -> list[dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {
        "state": {"type": "string",
                  "description": f"comma-separated: {', '.join(STATES)}; default all but merged"},
        "contractor": {"type": "string"}, "township": {"type": "string"},
        "severity": {"type": "string", "enum": ["critical", "warning"]},
        "breached": {"type": "string", "enum": ["true", "false"]},
        "device": {"type": "string", "description": "tickets whose affected devices include this device id"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "offset": {"type": "integer", "minimum": 0, "default": 0},
    }
    return [{"name": k, "in": "query", "required": False, "schema": schemas[k]} for k in keys]


def spec(actions: list[str], filter_keys: list[str]) -> dict[str, Any]:
    ticket_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    paths: dict[str, Any] = {
        "/api/v1/alertmanager": {"post": {
            "summary": "Alertmanager webhook receiver (payload version 4); webhook token",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/AlertmanagerPayload"}}}},
            "responses": {"200": {"description": "Persisted and applied; counts by result",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": _err("Malformed payload; `field` names the offending field"),
                          "401": _err("Missing or unknown token"),
                          "403": _err("Token lacks the webhook role"),
                          "503": _err("Database unavailable; Alertmanager retries")}}},
        "/api/v1/tickets": {"get": {
            "summary": "List tickets (a contractor token sees only its own) / 工单列表",
            "parameters": _filters(filter_keys),
            "responses": {"200": {"description": "Tickets, newest first", "content": {"application/json": {
                "schema": {"type": "object", "properties": {
                    "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"}}}}}},
                "400": _err("Bad filter"), "401": _err("No token"),
                "403": _err("Contractor filter for another contractor")}}},
        "/api/v1/tickets.csv": {"get": {
            "summary": "CSV export (UTF-8 with BOM for spreadsheet programs) / 导出",
            "parameters": [p for p in _filters(filter_keys) if p["name"] not in ("limit", "offset")],
            "responses": {"200": {"description": "CSV",
                                  "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "400": _err("Bad filter"), "401": _err("No token")}}},
        "/api/v1/tickets/{id}": {"get": {
            "summary": "Ticket detail with alerts, affected devices and history / 工单详情",
            "parameters": [ticket_id],
            "responses": {"200": _ticket_ref(), "404": _err("No such ticket (or not yours)"),
                          "401": _err("No token")}}},
        "/api/v1/tickets/{id}/photos/{photo}": {"get": {
            "summary": "A site photo of the ticket (JPEG or PNG, GPS removed unless kept by config) / 现场照片",
            "parameters": [ticket_id, {"name": "photo", "in": "path", "required": True,
                                       "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "The image", "content": {
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}}}},
                "404": _err("No such photo (or not yours)"), "401": _err("No token")}}},
        "/healthz": {"get": {"summary": "Readiness", "responses": {"200": {"description": "ready"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics of the service",
                             "responses": {"200": {"description": "text exposition"}}}},
    }
    for action in actions:
        paths[f"/api/v1/tickets/{{id}}/{action}"] = {"post": {
            "summary": ACTION_SUMMARY[action], "parameters": [ticket_id],
            "requestBody": {"required": action not in ("acknowledge", "start", "arrive", "approve", "assign"),
                            "content": {"application/json": {"schema": ACTION_BODIES[action]}}},
            "responses": {"200": _ticket_ref(), "400": _err("Bad body; `field` names it"),
                          "401": _err("No token"), "403": _err("Token may not act"),
                          "404": _err("No such ticket (or not yours)"),
                          "409": _err("Not allowed in the ticket's state")}}}
    nullable_time = {"type": "string", "format": "date-time", "nullable": True}
    ticket_props: dict[str, Any] = {
        "id": {"type": "integer"}, "state": {"type": "string", "enum": list(STATES)},
        "severity": {"type": "string"}, "root_key": {"type": "string"}, "alertname": {"type": "string"},
        "title_zh": {"type": "string"}, "title": {"type": "string"}, "subject": {"type": "string"},
        "contractor": {"type": "string"}, "township": {"type": "string"}, "village": {"type": "string"},
        "area": {"type": "string"}, "devices": {"type": "array", "items": {"type": "string"}},
        **{k: nullable_time for k in ("opened_at", "sla_start", "acknowledged_at", "started_at",
                                      "restored_at", "resolved_at", "closed_at", "response_due",
                                      "repair_due", "updated_at", "arrived_at", "approved_at")},
        "assignee": {"type": "string"}, "review": {"type": "string", "enum": ["", "pending", "approved"]},
        "response_breached": {"type": "boolean"}, "repair_breached": {"type": "boolean"},
        "breached": {"type": "boolean"}, "merged_into": {"type": "integer", "nullable": True},
        "reopen_count": {"type": "integer"}, "cause_category": {"type": "string"},
        "parts_replaced": {"type": "array", "items": {"type": "string"}}, "repair_note": {"type": "string"},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "sharpeyes-tickets", "version": "1",
                 "description": "雪亮工程故障工单服务 / Sharp Eyes fault-ticket service. "
                                "Bearer tokens: district, contractor (own tickets only), webhook."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {
                    "error": {"type": "string"}, "field": {"type": "string"}}},
                "Ticket": {"type": "object", "properties": ticket_props},
                "TicketDetail": {"allOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "object",
                    "properties": {"alerts": {"type": "array", "items": {"type": "object"}},
                                   "history": {"type": "array", "items": {"type": "object", "properties": {
                                       "at": {"type": "string", "format": "date-time"},
                                       "actor": {"type": "string"}, "action": {"type": "string"},
                                       "from_state": {"type": "string"}, "to_state": {"type": "string"},
                                       "detail": {"type": "object"}}}}}}]},
                "AlertmanagerPayload": {"type": "object", "required": ["version", "alerts"], "properties": {
                    "version": {"type": "string", "enum": ["4"]},
                    "alerts": {"type": "array", "items": {"type": "object",
                        "required": ["status", "labels", "startsAt"], "properties": {
                            "status": {"type": "string", "enum": ["firing", "resolved"]},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                            "startsAt": {"type": "string", "format": "date-time"},
                            "endsAt": {"type": "string"}, "fingerprint": {"type": "string"}}}}}},
            },
        },
        "security": [{"bearer": []}],
    }
