"""The first schema: a frozen copy of the models as they were when trustdesk 0.1 shipped."""

from peewee import *
import uuid


def up(migrator, db):
    class Coach(Model):
        name = TextField()
        email = TextField(default="")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "coach"

    db.create_tables([Coach])

    class Program(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        name = TextField()
        summary = TextField(default="")
        typical_sessions = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "program"
            indexes = ((("coach", "name"), True),)

    db.create_tables([Program])

    class Stage(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        program = ForeignKeyField(Program, on_delete="CASCADE")
        position = IntegerField()
        name = TextField()
        purpose = TextField(default="")
        typical_sessions = IntegerField(default=1)
        asks_of_client = TextField(default="")

        class Meta:
            database = db
            table_name = "stage"
            indexes = ((("program", "position"), True),)

    db.create_tables([Stage])

    class Client(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        name = TextField()
        email = TextField(default="")
        phone = TextField(default="")
        status = CharField(max_length=16, default="active")
        program = ForeignKeyField(Program, null=True, on_delete="SET NULL")
        stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
        started_on = DateField()
        ideal_gap_days = IntegerField(default=7)
        max_gap_days = IntegerField(default=21)
        snoozed_until = DateField(null=True)
        reference_consent = BooleanField(default=False)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "client"
            indexes = ((("coach", "status"), False), (("coach", "name"), False))

    db.create_tables([Client])

    class Commitment(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        owner = CharField(max_length=8)
        title = TextField()
        promised_on = DateField()
        due_on = DateField()
        done_on = DateField(null=True)
        status = CharField(max_length=16, default="open")
        reason = TextField(default="")
        renegotiated_from = ForeignKeyField("self", null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "commitment"
            indexes = (
                (("coach", "status", "due_on"), False),
                (("coach", "due_on"), False),
                (("client", "status"), False),
            )

    db.create_tables([Commitment])

    class KeySlot(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        kind = CharField(max_length=16)
        key_id = CharField(max_length=32)
        wrapped_key = BlobField()
        params = TextField(default="{}")
        created_at = DateTimeField()
        revoked_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "key_slot"

    db.create_tables([KeySlot])

    class Note(Model):
        id = UUIDField(primary_key=True, default=uuid.uuid4)
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        kind = CharField(max_length=16)
        written_on = DateField()
        updated_at = DateTimeField()
        body_sealed = BlobField()

        class Meta:
            database = db
            table_name = "note"
            indexes = ((("client", "written_on"), False),)

    db.create_tables([Note])

    class Outcome(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        achieved_on = DateField()
        title = TextField()
        detail = TextField(default="")

        class Meta:
            database = db
            table_name = "outcome"

    db.create_tables([Outcome])

    class Prompt(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        habit = CharField(max_length=16, default="depth")
        stage_hint = TextField(default="")
        title = TextField()
        body = TextField()

        class Meta:
            database = db
            table_name = "prompt"

    db.create_tables([Prompt])

    class Session(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        scheduled_start = DateTimeField()
        actual_start = DateTimeField(null=True)
        late_minutes = IntegerField(null=True)
        duration_minutes = IntegerField(default=60)
        status = CharField(max_length=16, default="scheduled")
        stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "session"
            indexes = (
                (("client", "status"), False),
                (("coach", "status", "scheduled_start"), False),
            )

    db.create_tables([Session])

    class StageChange(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        stage = ForeignKeyField(Stage, on_delete="CASCADE")
        changed_on = DateField()

        class Meta:
            database = db
            table_name = "stage_change"
            indexes = ((("client", "changed_on"), False),)

    db.create_tables([StageChange])

    class Touch(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        client = ForeignKeyField(Client, on_delete="CASCADE")
        occurred_on = DateField()
        channel = CharField(max_length=16)
        direction = CharField(max_length=8)
        counts_for_cadence = BooleanField(default=True)
        summary = TextField(default="")
        prompt = ForeignKeyField(Prompt, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "touch"
            indexes = (
                (("client", "counts_for_cadence", "occurred_on"), False),
                (("client", "direction", "occurred_on"), False),
                (("coach", "occurred_on"), False),
            )

    db.create_tables([Touch])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("touch"))
    migrator.migrate(migrator.drop_table("stage_change"))
    migrator.migrate(migrator.drop_table("session"))
    migrator.migrate(migrator.drop_table("prompt"))
    migrator.migrate(migrator.drop_table("outcome"))
    migrator.migrate(migrator.drop_table("note"))
    migrator.migrate(migrator.drop_table("key_slot"))
    migrator.migrate(migrator.drop_table("commitment"))
    migrator.migrate(migrator.drop_table("client"))
    migrator.migrate(migrator.drop_table("stage"))
    migrator.migrate(migrator.drop_table("program"))
    migrator.migrate(migrator.drop_table("coach"))
