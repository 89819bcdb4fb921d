/* A static do-nothing program: the floor of what a spawn can cost. */
int main(void) { return 0; }
