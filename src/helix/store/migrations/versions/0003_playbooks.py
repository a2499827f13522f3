"""Playbooks: definitions and their versions, enrolments, steps, tasks, notifications,
deliveries, contact preferences, account fields, and the scheduler's job table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the playbook tables."""
    op.create_table('account_fields',
    sa.Column('account_id', sa.String(length=255), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.Column('set_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'field', name=op.f('pk_account_fields'))
    )
    op.create_table('contact_preferences',
    sa.Column('contact_id', sa.String(length=255), nullable=False),
    sa.Column('email_opt_out', sa.Boolean(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('max_emails_per_week', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_contact_preferences'))
    )
    op.create_table('playbook_enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('playbook', sa.String(length=64), nullable=False),
    sa.Column('playbook_version', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=255), nullable=False),
    sa.Column('occurrence_key', sa.String(length=255), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('evidence', sa.String(length=2000), nullable=False),
    sa.Column('owner_email', sa.String(length=254), nullable=True),
    sa.Column('held_out', sa.Boolean(), nullable=False),
    sa.Column('holdout_draw', sa.Double(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_enrolments')),
    sa.UniqueConstraint('playbook', 'account_id', 'occurrence_key', name=op.f('uq_playbook_enrolments_playbook'))
    )
    with op.batch_alter_table('playbook_enrolments', schema=None) as batch_op:
        batch_op.create_index('ix_playbook_enrolments_account', ['account_id', 'occurred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_playbook_enrolments_playbook'), ['playbook'], unique=False)

    op.create_table('playbook_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_versions')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_playbook_versions_name'))
    )
    with op.batch_alter_table('playbook_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_playbook_versions_name'), ['name'], unique=False)

    op.create_table('playbooks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('evaluated_through', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_playbooks'))
    )
    op.create_table('scheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_jobs'))
    )
    with op.batch_alter_table('scheduler_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduler_jobs_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('playbook_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'done', 'skipped', 'failed', name='step_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=2000), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['playbook_enrolments.id'], name=op.f('fk_playbook_steps_enrolment_id_playbook_enrolments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_playbook_steps')),
    sa.UniqueConstraint('enrolment_id', 'position', name=op.f('uq_playbook_steps_enrolment_id'))
    )
    with op.batch_alter_table('playbook_steps', schema=None) as batch_op:
        batch_op.create_index('ix_playbook_steps_due', ['status', 'due_on'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('address', sa.String(length=1000), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=2000), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['step_id'], ['playbook_steps.id'], name=op.f('fk_deliveries_step_id_playbook_steps'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('message_id', name=op.f('uq_deliveries_message_id')),
    sa.UniqueConstraint('step_id', 'recipient', name=op.f('uq_deliveries_step_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_recipient', ['channel', 'recipient', 'sent_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_email', sa.String(length=254), nullable=False),
    sa.Column('message', sa.String(length=2000), nullable=False),
    sa.Column('account_id', sa.String(length=255), nullable=True),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['step_id'], ['playbook_steps.id'], name=op.f('fk_notifications_step_id_playbook_steps'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('step_id', 'user_email', name=op.f('uq_notifications_step_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_user_email'), ['user_email'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=True),
    sa.Column('owner_email', sa.String(length=254), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('open', 'done', 'dismissed', name='task_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('outcome', sa.String(length=2000), nullable=True),
    sa.Column('playbook', sa.String(length=64), nullable=True),
    sa.Column('step_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=320), nullable=True),
    sa.ForeignKeyConstraint(['step_id'], ['playbook_steps.id'], name=op.f('fk_tasks_step_id_playbook_steps'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('step_id', name=op.f('uq_tasks_step_id'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_tasks_owner_status', ['owner_email', 'status', 'due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_playbook'), ['playbook'], unique=False)



def downgrade() -> None:
    """Drop the playbook tables."""
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_playbook'))
        batch_op.drop_index('ix_tasks_owner_status')
        batch_op.drop_index(batch_op.f('ix_tasks_account_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_email'))

    op.drop_table('notifications')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_recipient')

    op.drop_table('deliveries')
    with op.batch_alter_table('playbook_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_playbook_steps_due')

    op.drop_table('playbook_steps')
    with op.batch_alter_table('scheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduler_jobs_next_run_time'))

    op.drop_table('scheduler_jobs')
    op.drop_table('playbooks')
    with op.batch_alter_table('playbook_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_versions_name'))

    op.drop_table('playbook_versions')
    with op.batch_alter_table('playbook_enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_playbook_enrolments_playbook'))
        batch_op.drop_index('ix_playbook_enrolments_account')

    op.drop_table('playbook_enrolments')
    op.drop_table('contact_preferences')
    op.drop_table('account_fields')
